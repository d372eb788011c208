#include "sip/reginfo.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstring>
#include <memory>

namespace imsp2p::sip {
namespace {

constexpr const char* reginfo_namespace = "urn:ietf:params:xml:ns:reginfo";

struct DocFree {
    void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

bool named(const xmlNode* node, const char* name)
{
    return node->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(node->name), name) == 0;
}

std::string attribute(const xmlNode* node, const char* name)
{
    xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
    std::string out = value ? reinterpret_cast<const char*>(value) : "";
    xmlFree(value);
    return out;
}

std::string text(const xmlNode* node)
{
    xmlChar* value = xmlNodeGetContent(node);
    std::string out = value ? reinterpret_cast<const char*>(value) : "";
    xmlFree(value);
    out.erase(0, out.find_first_not_of(" \t\r\n"));
    out.erase(out.find_last_not_of(" \t\r\n") + 1);
    return out;
}

unsigned number(const std::string& text)
{
    char* end = nullptr;
    const unsigned long value = std::strtoul(text.c_str(), &end, 10);
    return end && *end == '\0' && value <= 0xffffffffUL ? static_cast<unsigned>(value) : 0;
}

xmlNode* child(xmlNode* parent, xmlNs* ns, const char* name)
{
    return xmlNewChild(parent, ns, reinterpret_cast<const xmlChar*>(name), nullptr);
}

void set(xmlNode* node, const char* name, const std::string& value)
{
    xmlNewProp(node, reinterpret_cast<const xmlChar*>(name), reinterpret_cast<const xmlChar*>(value.c_str()));
}

} // namespace

std::optional<Reginfo> parse_reginfo(std::string_view xml, std::string& error)
{
    Doc doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "reginfo.xml", nullptr,
                          XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!doc) {
        error = "not well-formed XML";
        return std::nullopt;
    }
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!root || !named(root, "reginfo")) {
        error = "the root element is not <reginfo>";
        return std::nullopt;
    }
    Reginfo reginfo;
    reginfo.version = number(attribute(root, "version"));
    reginfo.state = attribute(root, "state");
    for (const xmlNode* r = root->children; r; r = r->next) {
        if (!named(r, "registration"))
            continue;
        ReginfoRegistration registration{attribute(r, "aor"), attribute(r, "id"), attribute(r, "state"), {}};
        for (const xmlNode* c = r->children; c; c = c->next) {
            if (!named(c, "contact"))
                continue;
            ReginfoContact contact{attribute(c, "id"), "", attribute(c, "state"), attribute(c, "event"),
                                   number(attribute(c, "expires"))};
            for (const xmlNode* u = c->children; u; u = u->next)
                if (named(u, "uri"))
                    contact.uri = text(u);
            registration.contacts.push_back(std::move(contact));
        }
        reginfo.registrations.push_back(std::move(registration));
    }
    return reginfo;
}

std::string write_reginfo(const Reginfo& reginfo)
{
    Doc doc(xmlNewDoc(reinterpret_cast<const xmlChar*>("1.0")));
    xmlNode* root = xmlNewNode(nullptr, reinterpret_cast<const xmlChar*>("reginfo"));
    xmlNs* ns = xmlNewNs(root, reinterpret_cast<const xmlChar*>(reginfo_namespace), nullptr);
    xmlSetNs(root, ns);
    xmlDocSetRootElement(doc.get(), root);
    set(root, "version", std::to_string(reginfo.version));
    set(root, "state", reginfo.state);
    for (const auto& registration : reginfo.registrations) {
        xmlNode* r = child(root, ns, "registration");
        set(r, "aor", registration.aor);
        set(r, "id", registration.id);
        set(r, "state", registration.state);
        for (const auto& contact : registration.contacts) {
            xmlNode* c = child(r, ns, "contact");
            set(c, "id", contact.id);
            set(c, "state", contact.state);
            set(c, "event", contact.event);
            if (contact.expires || contact.state == "active")
                set(c, "expires", std::to_string(contact.expires));
            xmlNodeAddContent(child(c, ns, "uri"), reinterpret_cast<const xmlChar*>(contact.uri.c_str()));
        }
    }
    xmlChar* buffer = nullptr;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(doc.get(), &buffer, &size, "UTF-8", 1);
    std::string out(reinterpret_cast<const char*>(buffer), static_cast<size_t>(size));
    xmlFree(buffer);
    return out;
}

} // namespace imsp2p::sip
