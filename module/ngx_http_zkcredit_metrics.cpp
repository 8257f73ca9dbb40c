/*
 * zkcredit: Prometheus metrics and the $zkcredit_status variable. Counters
 * are aggregates across workers; nothing identifies a user or a request.
 */

#include "ngx_http_zkcredit_module.h"


/* indexed by ngx_http_zkcredit_outcome_e */
static ngx_str_t  ngx_http_zkcredit_outcome_names[] = {
    ngx_string("accepted"),
    ngx_string("missing"),
    ngx_string("malformed"),
    ngx_string("unknown_key"),
    ngx_string("invalid_proof"),
    ngx_string("unknown_root"),
    ngx_string("replay"),
    ngx_string("double_spend"),
    ngx_string("client_gone"),
    ngx_string("rpc_malformed"),
    ngx_string("overloaded"),
    ngx_string("store_error"),
    ngx_string("outcome_unknown"),
    ngx_string("internal_error")
};


/* indexed by ngx_http_zkcredit_fallback_e */
static ngx_str_t  ngx_http_zkcredit_fallback_names[] = {
    ngx_string("no_usage"),
    ngx_string("unparseable"),
    ngx_string("too_large"),
    ngx_string("encoded"),
    ngx_string("no_price"),
    ngx_string("abandoned")
};


static const char  *ngx_http_zkcredit_bucket_bounds[] = {
    "0.00025", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.05", "0.25"
};


ngx_int_t
ngx_http_zkcredit_metrics_handler(ngx_http_request_t *r)
{
    u_char                        *p, *start;
    size_t                         len;
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    ngx_http_zkcredit_counters_t  *c;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    c = ngx_http_zkcredit_counters(r);
    if (c == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    len = 8192 + (NGX_HTTP_ZKCREDIT_OUTCOMES + NGX_HTTP_ZKCREDIT_VERIFY_BUCKETS
                  + NGX_HTTP_ZKCREDIT_FALLBACKS)
                 * (64 + NGX_ATOMIC_T_LEN);

    start = static_cast<u_char *>(ngx_pnalloc(r->pool, len));
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(start,
            "# HELP zkcredit_requests_total Requests to gated locations, "
            "by outcome.\n"
            "# TYPE zkcredit_requests_total counter\n");

    for (i = 0; i < NGX_HTTP_ZKCREDIT_OUTCOMES; i++) {
        p = ngx_sprintf(p, "zkcredit_requests_total{outcome=\"%V\"} %uA\n",
                        &ngx_http_zkcredit_outcome_names[i], c->outcomes[i]);
    }

    p = ngx_sprintf(p,
            "# HELP zkcredit_shadow_passed_total Refused credentials served "
            "anyway in shadow mode.\n"
            "# TYPE zkcredit_shadow_passed_total counter\n"
            "zkcredit_shadow_passed_total %uA\n"
            "# HELP zkcredit_refunds_total Refund vouchers issued with a "
            "response.\n"
            "# TYPE zkcredit_refunds_total counter\n"
            "zkcredit_refunds_total %uA\n"
            "# HELP zkcredit_unserved_refunds_total Tickets refunded in full "
            "because nothing was served (client gone, store reply lost).\n"
            "# TYPE zkcredit_unserved_refunds_total counter\n"
            "zkcredit_unserved_refunds_total %uA\n"
            "# HELP zkcredit_policy_refusals_total Paid requests the upstream "
            "refused by policy.\n"
            "# TYPE zkcredit_policy_refusals_total counter\n"
            "zkcredit_policy_refusals_total %uA\n"
            "# HELP zkcredit_credits_charged_total Credit units charged.\n"
            "# TYPE zkcredit_credits_charged_total counter\n"
            "zkcredit_credits_charged_total %uA\n"
            "# HELP zkcredit_metered_total Answers charged by their usage.\n"
            "# TYPE zkcredit_metered_total counter\n"
            "zkcredit_metered_total %uA\n"
            "# HELP zkcredit_meter_fallbacks_total Metered answers charged "
            "C_max, by reason.\n"
            "# TYPE zkcredit_meter_fallbacks_total counter\n",
            c->shadow_passed, c->refunds, c->unserved_refunds,
            c->policy_refusals, c->credits_charged, c->metered);

    for (i = 0; i < NGX_HTTP_ZKCREDIT_FALLBACKS; i++) {
        p = ngx_sprintf(p, "zkcredit_meter_fallbacks_total{reason=\"%V\"} %uA\n",
                        &ngx_http_zkcredit_fallback_names[i],
                        c->meter_fallbacks[i]);
    }

    p = ngx_sprintf(p,
            "# HELP zkcredit_verify_seconds Time to decode a credential, bind "
            "the request and verify the proof.\n"
            "# TYPE zkcredit_verify_seconds histogram\n");

    for (i = 0; i < NGX_HTTP_ZKCREDIT_VERIFY_BUCKETS; i++) {
        p = ngx_sprintf(p, "zkcredit_verify_seconds_bucket{le=\"%s\"} %uA\n",
                        ngx_http_zkcredit_bucket_bounds[i], c->verify_le[i]);
    }

    p = ngx_sprintf(p,
            "zkcredit_verify_seconds_bucket{le=\"+Inf\"} %uA\n"
            "zkcredit_verify_seconds_sum %uA.%06uA\n"
            "zkcredit_verify_seconds_count %uA\n"
            "# HELP zkcredit_verify_tasks_total Thread-pool tasks that "
            "verified proofs, one or a batch each.\n"
            "# TYPE zkcredit_verify_tasks_total counter\n"
            "zkcredit_verify_tasks_total %uA\n"
            "# HELP zkcredit_verify_batched_total Proofs verified in a batch "
            "of two or more.\n"
            "# TYPE zkcredit_verify_batched_total counter\n"
            "zkcredit_verify_batched_total %uA\n"
            "# HELP zkcredit_verify_batch_failures_total Batches with an "
            "invalid proof, whose proofs were then checked one by one.\n"
            "# TYPE zkcredit_verify_batch_failures_total counter\n"
            "zkcredit_verify_batch_failures_total %uA\n",
            c->verify_count, c->verify_usec / 1000000,
            c->verify_usec % 1000000, c->verify_count, c->verify_tasks,
            c->verify_batched, c->verify_batch_failures);

    return ngx_http_zkcredit_send_body(r, NGX_HTTP_OK,
                                       "text/plain; version=0.0.4", start, p);
}


ngx_int_t
ngx_http_zkcredit_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                *name;
    ngx_http_zkcredit_ctx_t  *ctx;

    ctx = ngx_http_zkcredit_get_ctx(r);

    if (ctx == NULL || !ctx->counted) {
        v->not_found = 1;
        return NGX_OK;
    }

    name = &ngx_http_zkcredit_outcome_names[ctx->outcome];

    v->len = name->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = name->data;

    return NGX_OK;
}
