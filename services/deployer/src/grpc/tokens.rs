//! API tokens, for the gateways' ticket checks (no endpoint of their own), with their users' grants.

rpc_area! {
    "ActiveTokens" active_tokens(Empty) -> pb::TokenList =
        |s, _| ops::tokens::active_tokens(&s.store);
    "LookupToken" lookup_token(pb::TokenHash) -> pb::TokenLookupReply =
        |s, r| ops::tokens::lookup_token(&s.store, &r.sha256_hex);
}
