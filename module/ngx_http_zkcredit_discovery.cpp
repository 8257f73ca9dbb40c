/*
 * zkcredit: the discovery document (docs/protocol.md §13), everything an
 * independent client needs to know before its first request, for every
 * deployment of this http{} block. Built from the configuration alone.
 */

#include "ngx_http_zkcredit_module.h"


static u_char *
ngx_http_zkcredit_discovery_deployment(u_char *p,
    ngx_http_zkcredit_deployment_t *dep)
{
    u_char          hex[NGX_HTTP_ZKCREDIT_HEX_LEN];
    u_char          ax[NGX_HTTP_ZKCREDIT_HEX_LEN], ay[NGX_HTTP_ZKCREDIT_HEX_LEN];
    u_char          vk[2 * sizeof(dep->vk_digest)];
    ngx_uint_t      i;
    libverify::Fr  *keys;

    ngx_http_zkcredit_field_hex(dep->signer->key_hash, hex);
    ngx_http_zkcredit_field_hex(dep->signer->key.public_key().x, ax);
    ngx_http_zkcredit_field_hex(dep->signer->key.public_key().y, ay);
    ngx_hex_dump(vk, dep->vk_digest, sizeof(dep->vk_digest));

    p = ngx_sprintf(p,
            "{\"scope\":\"%V\",\"c_max\":\"%uL\",\"tree_depth\":\"20\","
            "\"root_window_seconds\":\"%T\",\"settle_timeout_seconds\":\"%T\","
            "\"credential_header\":\"%V\",\"refund_header\":\"%V\","
            "\"verification_key_sha256\":\"%*s\","
            "\"signing_key\":{\"ax\":\"%*s\",\"ay\":\"%*s\",\"packed\":\"%*s\","
            "\"key_hash\":\"%*s\"},\"accepted_key_hashes\":[",
            &dep->scope_text, dep->c_max, dep->root_window,
            dep->settle_timeout, &dep->header_name, &dep->refund_header,
            sizeof(vk), vk,
            sizeof(ax), ax, sizeof(ay), ay,
            static_cast<size_t>(NGX_HTTP_ZKCREDIT_HEX_LEN), dep->signer->packed,
            sizeof(hex), hex);

    keys = static_cast<libverify::Fr *>(dep->keys->elts);

    for (i = 0; i < dep->keys->nelts; i++) {
        ngx_http_zkcredit_field_hex(keys[i], hex);
        p = ngx_sprintf(p, "%s\"%*s\"", i ? "," : "", sizeof(hex), hex);
    }

    p = ngx_sprintf(p, "],\"leaves_url\":\"%V\",\"refunds_url\":\"%V\"",
                    &dep->leaves_url, &dep->refunds_url);

    if (dep->deposit_contract.len) {
        p = ngx_sprintf(p, ",\"deposit_contract\":\"%V\"",
                        &dep->deposit_contract);
    }

    if (dep->receipt_key != NULL) {
        p = ngx_sprintf(p, ",\"receipt_signer\":\"%V\"", &dep->receipt_signer);
    }

    *p++ = '}';

    return p;
}


ngx_int_t
ngx_http_zkcredit_discovery_handler(ngx_http_request_t *r)
{
    size_t                            len;
    u_char                           *start, *p;
    ngx_int_t                         rc;
    ngx_uint_t                        i;
    ngx_http_zkcredit_deployment_t  **deps;
    ngx_http_zkcredit_main_conf_t    *zmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_get_module_main_conf(r, ngx_http_zkcredit_module));
    deps = static_cast<ngx_http_zkcredit_deployment_t **>(zmcf->deployments.elts);

    len = sizeof("{\"version\":\"1\",\"deployments\":[]}\n");
    for (i = 0; i < zmcf->deployments.nelts; i++) {
        len += 1024 + deps[i]->scope_text.len + deps[i]->header_name.len
               + deps[i]->refund_header.len + deps[i]->leaves_url.len
               + deps[i]->refunds_url.len + deps[i]->deposit_contract.len
               + deps[i]->receipt_signer.len
               + deps[i]->keys->nelts * (NGX_HTTP_ZKCREDIT_HEX_LEN + 3);
    }

    start = static_cast<u_char *>(ngx_pnalloc(r->pool, len));
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(start, "{\"version\":\"1\",\"deployments\":[");

    for (i = 0; i < zmcf->deployments.nelts; i++) {
        if (i) {
            *p++ = ',';
        }
        p = ngx_http_zkcredit_discovery_deployment(p, deps[i]);
    }

    p = ngx_sprintf(p, "]}\n");

    return ngx_http_zkcredit_send_body(r, NGX_HTTP_OK, "application/json",
                                       start, p);
}
