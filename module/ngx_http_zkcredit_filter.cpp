/*
 * zkcredit: refunds. The header filter charges a served request, signs the
 * voucher for its new state commitment and keeps it in Redis under the
 * nullifier; a spent ticket whose request was not served gets all of C_max
 * back; a request refused by policy keeps none and gets a policy receipt,
 * the provider's promise to burn its C_max; a location handler hands stored
 * vouchers out again.
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


/*
 * Refunds a spent ticket whose request was not served, or whose spend may
 * have happened without an answer. KEYS[1] the nullifier's record,
 * KEYS[2] the accepted roots; ARGV x, y, attempt, voucher, root, root
 * window, settle timeout (seconds), tag (the nullifier).
 *
 *   - a record with another binding is another request's: untouched {0};
 *   - a record with a voucher keeps it, which is returned {1, v};
 *   - a record this attempt made, or one nobody answered within the
 *     settle timeout (and no stream is answering: mark "s"), gets the
 *     voucher {1, v};
 *   - a record another attempt made that may still answer: untouched {2};
 *   - no record: the spend never ran, and now never will (this record
 *     comes first); the ticket is recorded spent and refunded {1, v},
 *     unless its root is not accepted {3}.
 */
static ngx_str_t  ngx_http_zkcredit_refund_script = ngx_string(
    "local now = tonumber(redis.call('TIME')[1])\n"
    "local seen = redis.call('HMGET', KEYS[1], 'x', 'a', 'v', 't', 's')\n"
    "if seen[1] then\n"
    "  if seen[1] ~= ARGV[1] then return {0, ARGV[8]} end\n"
    "  if seen[3] then return {1, seen[3], ARGV[8]} end\n"
    "  if seen[2] == ARGV[3] or (not seen[5]\n"
    "     and now - (tonumber(seen[4]) or 0) >= tonumber(ARGV[7])) then\n"
    "    redis.call('HSET', KEYS[1], 'v', ARGV[4])\n"
    "    return {1, ARGV[4], ARGV[8]}\n"
    "  end\n"
    "  return {2, ARGV[8]}\n"
    "end\n"
    "local score = redis.call('ZSCORE', KEYS[2], ARGV[5])\n"
    "if not score or (score ~= 'inf'\n"
    "                 and tonumber(score) + tonumber(ARGV[6]) < now) then\n"
    "  return {3, ARGV[8]}\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'x', ARGV[1], 'y', ARGV[2], 'a', ARGV[3],\n"
    "           't', math.ceil(now / 60) * 60, 'v', ARGV[4])\n"
    "return {1, ARGV[4], ARGV[8]}\n");


static ngx_str_t  ngx_http_zkcredit_receipt_header =
    ngx_string("ZKCredit-Policy-Receipt");


static ngx_int_t ngx_http_zkcredit_header_filter(ngx_http_request_t *r);
static ngx_uint_t ngx_http_zkcredit_free_of_charge(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx);
static uint64_t ngx_http_zkcredit_charge(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx);
static void ngx_http_zkcredit_store_voucher(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_str_t *voucher);
static ngx_int_t ngx_http_zkcredit_sign_receipt(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, const u_char *evidence, ngx_str_t *receipt);
static void ngx_http_zkcredit_record_policy(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, const u_char *evidence, ngx_str_t *receipt);
static void ngx_http_zkcredit_lookup_reply(void *data, redisReply *reply);
static void ngx_http_zkcredit_lookup_wake(ngx_event_t *ev);
static void ngx_http_zkcredit_lookup_cleanup(void *data);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


ngx_int_t
ngx_http_zkcredit_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_zkcredit_header_filter;

    return ngx_http_zkcredit_meter_init(cf);
}


static ngx_int_t
ngx_http_zkcredit_header_filter(ngx_http_request_t *r)
{
    uint64_t                       charge;
    ngx_int_t                      rc;
    ngx_uint_t                     count;
    ngx_str_t                      voucher, reason;
    ngx_table_elt_t               *policy;
    ngx_http_zkcredit_ctx_t       *ctx;
    ngx_http_zkcredit_loc_conf_t  *lcf;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_zkcredit_get_ctx(r);

    if (ctx == NULL || !ctx->spent || ctx->refunded
        || ctx->body != NGX_HTTP_ZKCREDIT_BODY_PASS)
    {
        return ngx_http_next_header_filter(r);
    }

    lcf = ctx->conf;

    /* the module owns these headers: an upstream's copies never pass */
    (void) ngx_http_zkcredit_hide_headers(&r->headers_out.headers,
                                          &ctx->deployment->refund_header);
    (void) ngx_http_zkcredit_hide_headers(&r->headers_out.headers,
                                          &ngx_http_zkcredit_receipt_header);

    policy = ngx_http_zkcredit_find_header(&r->headers_out.headers,
                                           &lcf->policy_header, &count);

    if (policy != NULL) {
        /*
         * Decided here for every kind of answer, streams included: a
         * stream's refusal is its header's, so the receipt is a header.
         */
        reason = policy->value;
        (void) ngx_http_zkcredit_hide_headers(&r->headers_out.headers,
                                              &lcf->policy_header);
        if (ngx_http_zkcredit_refuse_by_policy(r, ctx, &reason, &voucher)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        ctx->free_of_charge = ngx_http_zkcredit_free_of_charge(r, ctx);

        if (lcf->meter == NGX_HTTP_ZKCREDIT_METER_OPENAI
            && !ctx->free_of_charge)
        {
            rc = ngx_http_zkcredit_meter_header(r, ctx);

            if (rc == NGX_DONE) {
                /* the header waits for the body's usage */
                return NGX_OK;
            }

            if (rc == NGX_OK) {
                /* a stream: the voucher goes in-band, at its end */
                return ngx_http_next_header_filter(r);
            }
        }

        charge = ctx->free_of_charge ? 0 : ngx_http_zkcredit_charge(r, ctx);
        ngx_http_zkcredit_settle(r, ctx, charge, 0, &voucher);
    }

    if (voucher.len == 0
        || ngx_http_zkcredit_push_header(r, &ctx->deployment->refund_header,
                                         &voucher)
           == NULL)
    {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


/* the header of an answer that the body filter held back */
ngx_int_t
ngx_http_zkcredit_send_held_header(ngx_http_request_t *r)
{
    return ngx_http_next_header_filter(r);
}


/*
 * Nothing is charged when nginx itself could not serve the request (an
 * error of its own, such as 502 or 504 without an upstream answer), or when
 * the answer starts later than the settle timeout after the spend, by which
 * time a resent credential may already have been refunded in full.
 */
static ngx_uint_t
ngx_http_zkcredit_free_of_charge(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx)
{
    if (r->headers_out.status >= NGX_HTTP_INTERNAL_SERVER_ERROR
        && (r->upstream == NULL || r->upstream->headers_in.status_n == 0))
    {
        return 1;
    }

    return ngx_current_msec - ctx->spend_sent
           >= static_cast<ngx_msec_t>(ctx->deployment->settle_timeout) * 1000;
}


/*
 * The configured charge of a served request, at most C_max: the JSON-RPC
 * methods' prices, or zkcredit_charge (a number, or a variable such as the
 * cost the upstream reports). An unusable value charges C_max: the user was
 * promised no more, the provider loses nothing.
 */
static uint64_t
ngx_http_zkcredit_charge(ngx_http_request_t *r, ngx_http_zkcredit_ctx_t *ctx)
{
    uint64_t   charge, c_max;
    ngx_str_t  value;

    c_max = ctx->deployment->c_max;

    if (ctx->conf->meter == NGX_HTTP_ZKCREDIT_METER_JSONRPC) {
        return ngx_min(ctx->job->rpc_charge, c_max);
    }

    if (ctx->conf->charge == NULL) {
        return c_max;
    }

    if (ngx_http_complex_value(r, ctx->conf->charge, &value) != NGX_OK) {
        return c_max;
    }

    if (ngx_http_zkcredit_parse_amount(&value, &charge) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "zkcredit: charge \"%V\" is not an amount, "
                      "charging C_max", &value);
        return c_max;
    }

    return ngx_min(charge, c_max);
}


/*
 * Issues this request's voucher for a charge: signed, kept in Redis under
 * the nullifier until the store has it, counted. On failure the voucher is
 * empty.
 */
void
ngx_http_zkcredit_settle(ngx_http_request_t *r, ngx_http_zkcredit_ctx_t *ctx,
    uint64_t charge, ngx_uint_t policy, ngx_str_t *voucher)
{
    ngx_http_zkcredit_counters_t  *counters;

    ctx->refunded = 1;
    voucher->len = 0;

    if (ngx_http_zkcredit_sign_voucher(r, ctx, charge, voucher) != NGX_OK) {
        voucher->len = 0;
        return;
    }

    ngx_http_zkcredit_store_voucher(r, ctx, voucher);

    counters = ngx_http_zkcredit_counters(r);
    if (counters != NULL) {
        (void) ngx_atomic_fetch_add(&counters->refunds, 1);
        (void) ngx_atomic_fetch_add(&counters->credits_charged,
                                    static_cast<ngx_atomic_int_t>(charge));
        if (policy) {
            (void) ngx_atomic_fetch_add(&counters->policy_refusals, 1);
        }
    }
}


/*
 * A response whose voucher comes at its end (a stream) has started: the
 * record says so, so that no stale refund is issued while it lasts.
 */
void
ngx_http_zkcredit_mark_serving(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_http_zkcredit_cmd_t  cmd;

    ngx_http_zkcredit_cmd_init(&cmd, r, "HSET");
    ngx_http_zkcredit_cmd_key(&cmd, "n:", ctx->nullifier_hex,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);
    ngx_http_zkcredit_cmd_literal(&cmd, "s");
    ngx_http_zkcredit_cmd_literal(&cmd, "1");

    ngx_http_zkcredit_redis_write(&cmd, "serving mark");
}


/* the voucher for this request's commitment with refund C_max - charge */
ngx_int_t
ngx_http_zkcredit_sign_voucher(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, uint64_t charge, ngx_str_t *voucher)
{
    u_char                          *p;
    libverify::Refund                refund;
    ngx_http_zkcredit_deployment_t  *dep;

    dep = ctx->deployment;

    refund = libverify::refund_sign(dep->signer->key, dep->signer->key_hash,
                                    dep->verify.scope,
                                    ctx->job->credential.c_new,
                                    dep->c_max - charge);

    p = static_cast<u_char *>(ngx_pnalloc(r->pool, libverify::kRefundChars));
    if (p == NULL) {
        return NGX_ERROR;
    }

    libverify::refund_encode(refund, reinterpret_cast<char *>(p));
    voucher->data = p;
    voucher->len = libverify::kRefundChars;

    return NGX_OK;
}


void
ngx_http_zkcredit_cmd_refund_script(ngx_http_zkcredit_cmd_t *cmd,
    ngx_http_zkcredit_ctx_t *ctx, ngx_str_t *voucher)
{
    ngx_http_zkcredit_cmd_arg(cmd, ngx_http_zkcredit_refund_script.data,
                              ngx_http_zkcredit_refund_script.len);
    ngx_http_zkcredit_cmd_literal(cmd, "2");
    ngx_http_zkcredit_cmd_key(cmd, "n:", ctx->nullifier_hex,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);
    ngx_http_zkcredit_cmd_key(cmd, "roots", NULL, 0);
    ngx_http_zkcredit_cmd_field(cmd, ctx->job->x);
    ngx_http_zkcredit_cmd_field(cmd, ctx->job->credential.signal);
    ngx_http_zkcredit_cmd_arg(cmd, ctx->attempt_hex,
                              NGX_HTTP_ZKCREDIT_ATTEMPT_HEX_LEN);
    ngx_http_zkcredit_cmd_arg(cmd, voucher->data, voucher->len);
    ngx_http_zkcredit_cmd_field(cmd, ctx->job->credential.root);
    ngx_http_zkcredit_cmd_time(cmd, ctx->deployment->root_window);
    ngx_http_zkcredit_cmd_time(cmd, ctx->deployment->settle_timeout);
    ngx_http_zkcredit_cmd_arg(cmd, ctx->nullifier_hex,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);
}


/*
 * This request spent its ticket, or may have, and no response carries its
 * voucher: the whole C_max goes back, stored for fetching by nullifier.
 */
void
ngx_http_zkcredit_refund_unserved(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_str_t                      voucher;
    ngx_http_zkcredit_cmd_t        cmd;
    ngx_http_zkcredit_counters_t  *counters;

    if (ctx->refunded) {
        return;
    }

    ctx->refunded = 1;

    if (ngx_http_zkcredit_sign_voucher(r, ctx, 0, &voucher) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "zkcredit: no memory to refund an unserved ticket");
        return;
    }

    ngx_http_zkcredit_cmd_init(&cmd, r, "EVAL");
    ngx_http_zkcredit_cmd_refund_script(&cmd, ctx, &voucher);
    ngx_http_zkcredit_redis_write(&cmd, "refund of an unserved ticket");

    counters = ngx_http_zkcredit_counters(r);
    if (counters != NULL) {
        (void) ngx_atomic_fetch_add(&counters->unserved_refunds, 1);
    }
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
 * A request refused by policy: the provider keeps all of C_max (refund 0),
 * which it must burn. The audit stream records why, and when the deployment
 * has a receipt key the answer carries the receipt that lets anyone burn
 * it on chain (docs/protocol.md §9.1). NGX_ERROR before anything is
 * recorded leaves the ticket unrefunded, so the request's end refunds all
 * of it: a refusal is never kept without its receipt.
 */
ngx_int_t
ngx_http_zkcredit_refuse_by_policy(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_str_t *reason, ngx_str_t *voucher)
{
    u_char     evidence[crypto_hash_sha256_BYTES];
    ngx_str_t  receipt;

    voucher->len = 0;
    receipt.len = 0;

    crypto_hash_sha256(evidence, reason->data, reason->len);

    if (ctx->deployment->receipt_key != NULL
        && ngx_http_zkcredit_sign_receipt(r, ctx, evidence, &receipt) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_zkcredit_record_policy(r, ctx, evidence, &receipt);
    ngx_http_zkcredit_settle(r, ctx, ctx->deployment->c_max, 1, voucher);

    if (receipt.len
        && ngx_http_zkcredit_push_header(r, &ngx_http_zkcredit_receipt_header,
                                         &receipt)
           == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The receipt for this request's C_max, issued now by the gateway's clock
 * rounded down to the minute: the receipt is published when it is burned,
 * and the second a refused request came is none of the public's business.
 */
static ngx_int_t
ngx_http_zkcredit_sign_receipt(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, const u_char *evidence, ngx_str_t *receipt)
{
    std::string                      text;
    zkchain::PolicyReceipt           signed_receipt;
    ngx_http_zkcredit_deployment_t  *dep;

    dep = ctx->deployment;

    signed_receipt.nullifier = zkchain::word_of(ctx->job->credential.nullifier);
    signed_receipt.credits = dep->c_max;
    ngx_memcpy(signed_receipt.evidence_digest.data(), evidence,
               signed_receipt.evidence_digest.size());
    signed_receipt.issued_at = static_cast<uint64_t>(ngx_time() / 60 * 60);

    try {
        zkchain::sign_policy_receipt(*dep->receipt_key, dep->receipt_domain,
                                     signed_receipt);
        text = zkchain::policy_receipt_text(signed_receipt);

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "zkcredit: no policy receipt: %s", e.what());
        return NGX_ERROR;
    }

    receipt->data = static_cast<u_char *>(ngx_pnalloc(r->pool, text.size()));
    if (receipt->data == NULL) {
        return NGX_ERROR;
    }

    receipt->len = text.size();
    ngx_memcpy(receipt->data, text.data(), text.size());

    return NGX_OK;
}


/*
 * The audit stream's entry: nullifier, the digest of the upstream's reason
 * (the reason itself may carry request content), the time to the minute,
 * and the receipt when there is one.
 */
static void
ngx_http_zkcredit_record_policy(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, const u_char *evidence, ngx_str_t *receipt)
{
    u_char                   digest_hex[2 * crypto_hash_sha256_BYTES];
    ngx_http_zkcredit_cmd_t  cmd;

    ngx_hex_dump(digest_hex, const_cast<u_char *>(evidence),
                 crypto_hash_sha256_BYTES);

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

    if (receipt->len) {
        ngx_http_zkcredit_cmd_literal(&cmd, "receipt");
        ngx_http_zkcredit_cmd_arg(&cmd, receipt->data, receipt->len);
    }

    ngx_http_zkcredit_redis_write(&cmd, "policy evidence");
}


/*
 * GET <location>/<nullifier as 64 lower-case hex digits>: the voucher of
 * the request that spent it, in the refund header and a JSON body.
 */
ngx_int_t
ngx_http_zkcredit_refunds_handler(ngx_http_request_t *r)
{
    ngx_uint_t                     i;
    ngx_http_cleanup_t            *cln;
    ngx_http_zkcredit_cmd_t        cmd;
    ngx_http_zkcredit_lookup_t    *lookup;
    ngx_http_zkcredit_loc_conf_t  *lcf;

    lcf = static_cast<ngx_http_zkcredit_loc_conf_t *>(
              ngx_http_get_module_loc_conf(r, ngx_http_zkcredit_module));

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_zkcredit_send_problem(r, lcf,
                   NGX_HTTP_ZKCREDIT_PROBLEM_NOT_ALLOWED, NULL);
    }

    if (r->uri.len < NGX_HTTP_ZKCREDIT_HEX_LEN + 1
        || r->uri.data[r->uri.len - NGX_HTTP_ZKCREDIT_HEX_LEN - 1] != '/')
    {
        return ngx_http_zkcredit_send_problem(r, lcf,
                   NGX_HTTP_ZKCREDIT_PROBLEM_NO_VOUCHER, NULL);
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
            return ngx_http_zkcredit_send_problem(r, lcf,
                       NGX_HTTP_ZKCREDIT_PROBLEM_NO_VOUCHER, NULL);
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

    lookup->op = ngx_http_zkcredit_redis_send(ngx_http_zkcredit_lookup_reply,
                                              lookup, &cmd);
    if (lookup->op == NULL) {
        return ngx_http_zkcredit_send_problem(r, lcf,
                   NGX_HTTP_ZKCREDIT_PROBLEM_UNAVAILABLE, NULL);
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
    u_char                        *p, *last;
    ngx_int_t                      rc;
    ngx_connection_t              *c;
    ngx_http_request_t            *r;
    ngx_http_zkcredit_lookup_t    *lookup;
    ngx_http_zkcredit_loc_conf_t  *lcf;

    lookup = static_cast<ngx_http_zkcredit_lookup_t *>(ev->data);
    r = lookup->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    lcf = static_cast<ngx_http_zkcredit_loc_conf_t *>(
              ngx_http_get_module_loc_conf(r, ngx_http_zkcredit_module));

    if (lookup->status == NGX_HTTP_NOT_FOUND
        || lookup->status == NGX_HTTP_SERVICE_UNAVAILABLE)
    {
        rc = ngx_http_zkcredit_send_problem(r, lcf,
                 lookup->status == NGX_HTTP_NOT_FOUND
                 ? NGX_HTTP_ZKCREDIT_PROBLEM_NO_VOUCHER
                 : NGX_HTTP_ZKCREDIT_PROBLEM_UNAVAILABLE, NULL);
        ngx_http_finalize_request(r, rc);
        ngx_http_run_posted_requests(c);
        return;
    }

    if (lookup->status != NGX_HTTP_OK) {
        ngx_http_finalize_request(r, lookup->status);
        ngx_http_run_posted_requests(c);
        return;
    }

    p = static_cast<u_char *>(ngx_pnalloc(r->pool,
            sizeof("{\"nullifier\":\"\",\"refund\":\"\"}\n")
            + NGX_HTTP_ZKCREDIT_HEX_LEN + lookup->voucher.len));

    if (p == NULL
        || ngx_http_zkcredit_push_header(r, &lcf->refund_header,
                                         &lookup->voucher) == NULL)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        ngx_http_run_posted_requests(c);
        return;
    }

    last = ngx_sprintf(p, "{\"nullifier\":\"%V\",\"refund\":\"%V\"}\n",
                       &lookup->nullifier_hex, &lookup->voucher);

    ngx_http_finalize_request(r,
        ngx_http_zkcredit_send_body(r, NGX_HTTP_OK, "application/json", p, last));
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_zkcredit_lookup_cleanup(void *data)
{
    ngx_http_zkcredit_lookup_t *lookup =
        static_cast<ngx_http_zkcredit_lookup_t *>(data);

    ngx_http_zkcredit_cancel(&lookup->op, &lookup->wake);
}
