/*
 * zkcredit: refunds. The header filter charges a served request, signs the
 * voucher for its new state commitment and keeps it in Redis under the
 * nullifier; a location handler hands stored vouchers out again.
 */

#include "ngx_http_zkcredit_module.h"


typedef struct {
    ngx_http_request_t                *request;
    ngx_http_zkcredit_redis_op_t      *op;
    ngx_event_t                        wake;
    ngx_str_t                          nullifier_hex;
    ngx_str_t                          voucher;
    ngx_uint_t                         status;
} ngx_http_zkcredit_lookup_t;


static ngx_int_t ngx_http_zkcredit_header_filter(ngx_http_request_t *r);
static uint64_t ngx_http_zkcredit_charge(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf);
static void ngx_http_zkcredit_store_voucher(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_str_t *voucher);
static void ngx_http_zkcredit_record_policy(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_str_t *reason);
static void ngx_http_zkcredit_lookup_reply(void *data, redisReply *reply);
static void ngx_http_zkcredit_lookup_wake(ngx_event_t *ev);
static void ngx_http_zkcredit_lookup_cleanup(void *data);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


ngx_int_t
ngx_http_zkcredit_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_zkcredit_header_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_zkcredit_header_filter(ngx_http_request_t *r)
{
    u_char                        *p;
    uint64_t                       charge, amount;
    ngx_uint_t                     count;
    ngx_str_t                      voucher, reason;
    ngx_table_elt_t               *h, *policy;
    libverify::Refund              refund;
    ngx_http_zkcredit_ctx_t       *ctx;
    ngx_http_zkcredit_loc_conf_t  *lcf;
    ngx_http_zkcredit_counters_t  *counters;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = static_cast<ngx_http_zkcredit_ctx_t *>(
              ngx_http_get_module_ctx(r, ngx_http_zkcredit_module));

    if (ctx == NULL || !ctx->spent || ctx->refunded) {
        return ngx_http_next_header_filter(r);
    }

    ctx->refunded = 1;

    lcf = static_cast<ngx_http_zkcredit_loc_conf_t *>(
              ngx_http_get_module_loc_conf(r, ngx_http_zkcredit_module));

    policy = ngx_http_zkcredit_find_header(&r->headers_out.headers,
                                           &lcf->policy_header, &count);

    if (policy != NULL) {
        /* the provider keeps all of C_max and says why, to the audit stream */
        charge = lcf->c_max;
        reason = policy->value;
        policy->hash = 0;
        ngx_http_zkcredit_record_policy(r, ctx, &reason);

    } else {
        charge = ngx_http_zkcredit_charge(r, lcf);
    }

    amount = lcf->c_max - charge;

    refund = libverify::refund_sign(lcf->signer->key,
                                    lcf->signer->key_hash,
                                    lcf->deployment->scope,
                                    ctx->job->credential.c_new, amount);

    p = static_cast<u_char *>(ngx_pnalloc(r->pool, libverify::kRefundChars));
    if (p == NULL) {
        return NGX_ERROR;
    }

    libverify::refund_encode(refund, reinterpret_cast<char *>(p));
    voucher.data = p;
    voucher.len = libverify::kRefundChars;

    h = static_cast<ngx_table_elt_t *>(ngx_list_push(&r->headers_out.headers));
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = lcf->refund_header;
    h->value = voucher;

    ngx_http_zkcredit_store_voucher(r, ctx, &voucher);

    counters = ngx_http_zkcredit_counters(r);
    if (counters != NULL) {
        (void) ngx_atomic_fetch_add(&counters->refunds, 1);
        (void) ngx_atomic_fetch_add(&counters->credits_charged,
                                    static_cast<ngx_atomic_int_t>(charge));
        if (policy != NULL) {
            (void) ngx_atomic_fetch_add(&counters->policy_refusals, 1);
        }
    }

    return ngx_http_next_header_filter(r);
}


/*
 * The configured charge (a number, or a variable such as the cost the
 * upstream reports), capped at C_max. An unusable value charges C_max:
 * the user was promised no more, the provider loses nothing.
 */
static uint64_t
ngx_http_zkcredit_charge(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf)
{
    uint64_t   charge;
    ngx_str_t  value;

    if (lcf->charge == NULL) {
        return lcf->c_max;
    }

    if (ngx_http_complex_value(r, lcf->charge, &value) != NGX_OK) {
        return lcf->c_max;
    }

    if (ngx_http_zkcredit_parse_amount(&value, &charge) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "zkcredit: charge \"%V\" is not an amount, "
                      "charging C_max", &value);
        return lcf->c_max;
    }

    return ngx_min(charge, lcf->c_max);
}


static void
ngx_http_zkcredit_store_voucher(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_str_t *voucher)
{
    ngx_http_zkcredit_cmd_t  cmd;

    ngx_http_zkcredit_cmd_init(&cmd, r, "HSET");
    ngx_http_zkcredit_cmd_key(&cmd, "n:", ctx->nullifier_hex,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);
    ngx_http_zkcredit_cmd_literal(&cmd, "v");
    ngx_http_zkcredit_cmd_arg(&cmd, voucher->data, voucher->len);

    ngx_http_zkcredit_redis_write(&cmd, "refund voucher");
}


/*
 * A policy refusal: nullifier, a digest of the upstream's reason (the
 * reason itself may carry request content) and the time to the minute.
 */
static void
ngx_http_zkcredit_record_policy(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_str_t *reason)
{
    u_char                   digest[crypto_hash_sha256_BYTES];
    u_char                   digest_hex[2 * crypto_hash_sha256_BYTES];
    ngx_http_zkcredit_cmd_t  cmd;

    crypto_hash_sha256(digest, reason->data, reason->len);
    ngx_hex_dump(digest_hex, digest, sizeof(digest));

    ngx_http_zkcredit_cmd_init(&cmd, r, "XADD");
    ngx_http_zkcredit_cmd_key(&cmd, "evidence:policy", NULL, 0);
    ngx_http_zkcredit_cmd_literal(&cmd, "*");
    ngx_http_zkcredit_cmd_literal(&cmd, "nullifier");
    ngx_http_zkcredit_cmd_arg(&cmd, ctx->nullifier_hex,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);
    ngx_http_zkcredit_cmd_literal(&cmd, "reason_sha256");
    ngx_http_zkcredit_cmd_arg(&cmd, digest_hex, sizeof(digest_hex));
    ngx_http_zkcredit_cmd_literal(&cmd, "minute");
    ngx_http_zkcredit_cmd_time(&cmd, ngx_time() / 60 * 60);

    ngx_http_zkcredit_redis_write(&cmd, "policy evidence");
}


/*
 * GET <location>/<nullifier as 64 lower-case hex digits>: the voucher of
 * the request that spent it, in the refund header and a JSON body.
 */
ngx_int_t
ngx_http_zkcredit_refunds_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_uint_t                   i;
    ngx_http_cleanup_t          *cln;
    ngx_http_zkcredit_cmd_t      cmd;
    ngx_http_zkcredit_lookup_t  *lookup;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (r->uri.len < NGX_HTTP_ZKCREDIT_HEX_LEN + 1
        || r->uri.data[r->uri.len - NGX_HTTP_ZKCREDIT_HEX_LEN - 1] != '/')
    {
        return NGX_HTTP_NOT_FOUND;
    }

    lookup = static_cast<ngx_http_zkcredit_lookup_t *>(
                 ngx_pcalloc(r->pool, sizeof(ngx_http_zkcredit_lookup_t)));
    if (lookup == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lookup->nullifier_hex.data = r->uri.data + r->uri.len
                                 - NGX_HTTP_ZKCREDIT_HEX_LEN;
    lookup->nullifier_hex.len = NGX_HTTP_ZKCREDIT_HEX_LEN;

    for (i = 0; i < NGX_HTTP_ZKCREDIT_HEX_LEN; i++) {
        u_char ch = lookup->nullifier_hex.data[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            return NGX_HTTP_NOT_FOUND;
        }
    }

    ngx_http_zkcredit_cmd_init(&cmd, r, "HGET");
    ngx_http_zkcredit_cmd_key(&cmd, "n:", lookup->nullifier_hex.data,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);
    ngx_http_zkcredit_cmd_literal(&cmd, "v");

    cln = ngx_http_cleanup_add(r, 0);
    if (cmd.failed || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lookup->request = r;
    lookup->wake.handler = ngx_http_zkcredit_lookup_wake;
    lookup->wake.data = lookup;
    lookup->wake.log = r->connection->log;
    cln->handler = ngx_http_zkcredit_lookup_cleanup;
    cln->data = lookup;

    lookup->op = ngx_http_zkcredit_redis_send(r->connection->log,
                                              ngx_http_zkcredit_lookup_reply,
                                              lookup, &cmd);
    if (lookup->op == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_zkcredit_lookup_reply(void *data, redisReply *reply)
{
    ngx_http_zkcredit_lookup_t *lookup =
        static_cast<ngx_http_zkcredit_lookup_t *>(data);

    lookup->op = NULL;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        lookup->status = NGX_HTTP_SERVICE_UNAVAILABLE;

    } else if (reply->type == REDIS_REPLY_STRING
               && reply->len == libverify::kRefundChars)
    {
        lookup->voucher.data = static_cast<u_char *>(
            ngx_pnalloc(lookup->request->pool, reply->len));
        if (lookup->voucher.data == NULL) {
            lookup->status = NGX_HTTP_INTERNAL_SERVER_ERROR;

        } else {
            ngx_memcpy(lookup->voucher.data, reply->str, reply->len);
            lookup->voucher.len = reply->len;
            lookup->status = NGX_HTTP_OK;
        }

    } else {
        lookup->status = NGX_HTTP_NOT_FOUND;
    }

    ngx_post_event(&lookup->wake, &ngx_posted_events);
}


static void
ngx_http_zkcredit_lookup_wake(ngx_event_t *ev)
{
    u_char                        *p;
    ngx_int_t                      rc;
    ngx_buf_t                     *b;
    ngx_chain_t                    out;
    ngx_connection_t              *c;
    ngx_table_elt_t               *h;
    ngx_http_request_t            *r;
    ngx_http_zkcredit_lookup_t    *lookup;
    ngx_http_zkcredit_loc_conf_t  *lcf;

    lookup = static_cast<ngx_http_zkcredit_lookup_t *>(ev->data);
    r = lookup->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    if (lookup->status != NGX_HTTP_OK) {
        ngx_http_finalize_request(r, lookup->status);
        ngx_http_run_posted_requests(c);
        return;
    }

    lcf = static_cast<ngx_http_zkcredit_loc_conf_t *>(
              ngx_http_get_module_loc_conf(r, ngx_http_zkcredit_module));

    h = static_cast<ngx_table_elt_t *>(ngx_list_push(&r->headers_out.headers));
    p = static_cast<u_char *>(ngx_pnalloc(r->pool,
            sizeof("{\"nullifier\":\"\",\"refund\":\"\"}\n")
            + NGX_HTTP_ZKCREDIT_HEX_LEN + lookup->voucher.len));
    b = static_cast<ngx_buf_t *>(ngx_calloc_buf(r->pool));

    if (h == NULL || p == NULL || b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        ngx_http_run_posted_requests(c);
        return;
    }

    h->hash = 1;
    h->key = lcf->refund_header;
    h->value = lookup->voucher;

    b->pos = p;
    b->last = ngx_sprintf(p, "{\"nullifier\":\"%V\",\"refund\":\"%V\"}\n",
                          &lookup->nullifier_hex, &lookup->voucher);
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc != NGX_ERROR && rc <= NGX_OK && !r->header_only) {
        out.buf = b;
        out.next = NULL;
        rc = ngx_http_output_filter(r, &out);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_zkcredit_lookup_cleanup(void *data)
{
    ngx_http_zkcredit_lookup_t *lookup =
        static_cast<ngx_http_zkcredit_lookup_t *>(data);

    ngx_http_zkcredit_cancel(&lookup->op, &lookup->wake);
}
