#include "license/credential_cli.hpp"

namespace imsp2p::license {

void add_credential_options(CLI::App& app, CredentialOptions& c)
{
    app.add_option("--impi", c.impi, "Private identity to authenticate as (the Digest username)")->type_name("ID");
    app.add_option("--registration", c.registration,
                   "The JSON output of ims-register (- for stdin): authenticate as its IMPI, with the secret "
                   "from --password, --k or --subscribers")
        ->type_name("FILE");
    app.add_option("--password", c.password, "Digest password (prefer --subscribers or --config: it stays out of ps)")
        ->type_name("TEXT");
    app.add_option("--k", c.k, "AKA: the subscriber key K, 32 hex digits (prefer --subscribers)")->type_name("HEX");
    app.add_option("--op", c.op, "AKA: the operator variant OP, 32 hex digits")->type_name("HEX");
    app.add_option("--opc", c.opc, "AKA: OPc instead of OP, 32 hex digits")->type_name("HEX");
    app.add_option("--subscribers", c.subscribers, "Subscriber CSV to take the --impi row's credentials from")->type_name("FILE");
    app.add_option("--usim-state", c.usim_state, "AKA: file keeping the USIM's SQN array between runs "
                                                 "(default: the one ims-register uses)")
        ->type_name("FILE");
}

} // namespace imsp2p::license
