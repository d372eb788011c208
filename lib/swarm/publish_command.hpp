// swarm-publish: encrypt a file or directory into a publish directory, make a
// torrent of the ciphertext, write the key, and optionally seed it.
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"
#include "dht/content_client.hpp"
#include "license/client_credentials.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace imsp2p::swarm {

// Few upload slots make the peers of a swarm share with each other rather than
// each take the whole file from the seeder: 2 keeps the seeder's upload under
// twice the content size for 8 fetchers (bench/swarm-scale) at about the same speed.
constexpr int default_upload_slots = 2;

struct PublishOptions {
    std::string input;    // FILE or DIR
    std::string out_dir;  // the publish directory
    bool no_encrypt = false;
    std::string key_file;    // default OUT/NAME.key
    std::string license_out; // another copy of the Clear Key licence
    bool show_key = false;
    std::string content_id;  // default: 32 random hex digits
    std::int64_t piece_size = 0;
    bool v1_only = false;
    bool v2_only = false;
    bool private_flag = false;
    std::vector<std::string> trackers;
    std::vector<std::string> web_seeds;
    std::string comment;
    std::string creator;
    int hashing_threads = 0;
    bool seed = false;
    bool reseed = false;
    bool super_seed = false;  // BEP 16: each piece to one peer first
    int upload_slots = 0;     // peers the seeder uploads to at once; 0: default_upload_slots
    std::string listen;
    std::vector<std::string> peers;
    double seed_time = 0;
    double ratio = 0;
    double stats_interval = 1;
    // Key deposit with a licence server (license-server), when set.
    std::string license_server;
    std::string license_policy = "free";
    std::int64_t price = 0;
    std::string cacert;
    license::CredentialOptions credentials;
    // The content record in the managed overlay, when overlay.dht is set.
    dht::ContentClientOptions overlay;
    std::string publisher;        // NAME: the publisher's certificate CN (NAME.crt, NAME.key)
    std::string publisher_dir;    // --credentials DIR holding them (and ca.crt, the default --ca)
    std::int64_t lifetime = 3600; // seconds a record lives; republished at half of it while seeding
};

Outcome run_publish(const PublishOptions& options, cli::Output& out);

} // namespace imsp2p::swarm
