// The one place that includes sofia-sip with the project's context types, so
// that callbacks are typed (sofia reads these macros on first inclusion).
#pragma once

namespace imsp2p::sip {
class SipStack;
class Registration;
class RequestServer;
}

#define SU_ROOT_MAGIC_T imsp2p::sip::SipStack
#define NTA_AGENT_MAGIC_T imsp2p::sip::SipStack
#define NTA_OUTGOING_MAGIC_T imsp2p::sip::Registration
#define NTA_LEG_MAGIC_T imsp2p::sip::RequestServer

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/url.h>
