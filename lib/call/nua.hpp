// The one place lib/call includes sofia-sip's user-agent layer (nua), with
// the project's context types, so callbacks are typed (sofia reads these
// macros on first inclusion; never include sip/sofia.hpp in the same file).
#pragma once

namespace imsp2p::call {
class UserAgent;
struct Leg;
}

#define SU_ROOT_MAGIC_T imsp2p::call::UserAgent
#define NUA_MAGIC_T imsp2p::call::UserAgent
#define NUA_HMAGIC_T imsp2p::call::Leg

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/msg_header.h>
