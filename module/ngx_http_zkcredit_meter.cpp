/*
 * zkcredit: charging by what was really used, with no change to the
 * upstream.
 *
 *   - OpenAI-compatible answers carry a "usage" object. A JSON answer is
 *     held (up to zkcredit_meter_buffer) until its end, so that its headers
 *     leave with the voucher. A streamed answer (text/event-stream) passes
 *     on line by line as it comes; the usage chunk sets the charge, and the
 *     voucher goes in-band, as an SSE comment line placed before
 *     "data: [DONE]". A comment, not an event: OpenAI's SDKs parse the data
 *     of every event, named or not, as JSON and hand it to the application,
 *     while every SSE parser skips comments.
 *   - JSON-RPC requests are priced by their methods, read from the request
 *     body when it is verified (ngx_http_zkcredit_rpc_charge).
 *
 * Anything that cannot be metered is charged C_max, counted, and logged:
 * the user was promised no more, and the provider loses nothing.
 */

#include "ngx_http_zkcredit_module.h"

#include "libverify/metering.hpp"

#include <string>
#include <string_view>
#include <vector>


/* an SSE line longer than this is passed on unread */
#define NGX_HTTP_ZKCREDIT_LINE_MAX        65536

#define NGX_HTTP_ZKCREDIT_STREAM_BUF      4096

#define NGX_HTTP_ZKCREDIT_PER_MILLION     1000000


static const char  *ngx_http_zkcredit_fallback_reasons[] = {
    "the answer carries no usage",
    "the answer is not valid JSON",
    "the answer is larger than zkcredit_meter_buffer",
    "the answer is content-encoded",
    "no zkcredit_token_price applies to the model",
    "the stream ended without its usage"
};


static ngx_int_t ngx_http_zkcredit_meter_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);

static ngx_http_output_body_filter_pt  ngx_http_next_body_filter;


ngx_int_t
ngx_http_zkcredit_meter_init(ngx_conf_t *cf)
{
    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_zkcredit_meter_body_filter;

    return NGX_OK;
}


/*
 * Reads an answer (or one streamed chunk) with libverify's reader: its
 * usage, if it has one, and (when policy is not NULL) the message of a
 * policy refusal. False for an answer that cannot be read.
 */
static bool
ngx_http_zkcredit_read_answer(const u_char *data, size_t len,
    ngx_http_zkcredit_usage_t *usage, ngx_str_t *policy, ngx_pool_t *pool)
{
    libverify::AnswerReading  reading;

    if (!libverify::read_answer(
            std::string_view(reinterpret_cast<const char *>(data), len),
            reading))
    {
        return false;
    }

    if (policy != NULL && reading.policy_refusal) {
        policy->data = static_cast<u_char *>(
                           ngx_pnalloc(pool, reading.policy_message.size()));
        if (policy->data != NULL) {
            ngx_memcpy(policy->data, reading.policy_message.data(),
                       reading.policy_message.size());
            policy->len = reading.policy_message.size();
        }
    }

    if (reading.usage.found) {
        usage->prompt = reading.usage.prompt;
        usage->completion = reading.usage.completion;
        usage->cached = reading.usage.cached;
        usage->reasoning = reading.usage.reasoning;
        usage->model_len = ngx_min(reading.usage.model.size(),
                                   sizeof(usage->model));
        ngx_memcpy(usage->model, reading.usage.model.data(), usage->model_len);
        usage->found = 1;
    }

    return true;
}


/*
 * The price of a usage: credit units per million tokens, rounded up,
 * capped at C_max. Sets *fallback and returns C_max when no price applies.
 */
static uint64_t
ngx_http_zkcredit_usage_price(ngx_http_zkcredit_loc_conf_t *lcf,
    ngx_http_zkcredit_usage_t *usage, uint64_t c_max, ngx_int_t *fallback)
{
    unsigned __int128                  cost;
    ngx_uint_t                         i;
    ngx_http_zkcredit_token_price_t   *prices, *price;

    price = NULL;

    if (lcf->token_prices != NULL) {
        prices = static_cast<ngx_http_zkcredit_token_price_t *>(
                     lcf->token_prices->elts);

        for (i = 0; i < lcf->token_prices->nelts; i++) {
            if (prices[i].model.len == usage->model_len
                && ngx_strncmp(prices[i].model.data, usage->model,
                               usage->model_len) == 0)
            {
                price = &prices[i];
                break;
            }

            if (prices[i].model.len == 1 && prices[i].model.data[0] == '*') {
                price = &prices[i];
            }
        }
    }

    if (price == NULL) {
        *fallback = NGX_HTTP_ZKCREDIT_FALLBACK_NO_PRICE;
        return c_max;
    }

    /* each product is below 2^128 / 4: tokens and prices are below 2^64 */
    cost = static_cast<unsigned __int128>(usage->prompt - usage->cached)
               * price->prompt
           + static_cast<unsigned __int128>(usage->cached) * price->cached
           + static_cast<unsigned __int128>(usage->completion - usage->reasoning)
               * price->completion
           + static_cast<unsigned __int128>(usage->reasoning) * price->reasoning;

    cost = (cost + NGX_HTTP_ZKCREDIT_PER_MILLION - 1)
           / NGX_HTTP_ZKCREDIT_PER_MILLION;

    return cost < c_max ? static_cast<uint64_t>(cost) : c_max;
}


static void
ngx_http_zkcredit_count_fallback(ngx_http_request_t *r, ngx_int_t fallback)
{
    ngx_http_zkcredit_counters_t  *counters;

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "zkcredit: charging C_max: %s",
                  ngx_http_zkcredit_fallback_reasons[fallback]);

    counters = ngx_http_zkcredit_counters(r);
    if (counters != NULL) {
        (void) ngx_atomic_fetch_add(&counters->meter_fallbacks[fallback], 1);
    }
}


/* the charge of a metered answer once everything about it is known */
static uint64_t
ngx_http_zkcredit_metered_charge(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_int_t fallback)
{
    uint64_t                       charge;
    ngx_http_zkcredit_counters_t  *counters;

    if (ctx->free_of_charge) {
        return 0;
    }

    if (fallback < 0 && !ctx->usage.found) {
        fallback = NGX_HTTP_ZKCREDIT_FALLBACK_NO_USAGE;
    }

    charge = ctx->deployment->c_max;

    if (fallback < 0) {
        charge = ngx_http_zkcredit_usage_price(ctx->conf, &ctx->usage,
                                               ctx->deployment->c_max,
                                               &fallback);
    }

    if (fallback >= 0) {
        ngx_http_zkcredit_count_fallback(r, fallback);
        return ctx->deployment->c_max;
    }

    counters = ngx_http_zkcredit_counters(r);
    if (counters != NULL) {
        (void) ngx_atomic_fetch_add(&counters->metered, 1);
    }

    return charge;
}


static ngx_uint_t
ngx_http_zkcredit_type_is(ngx_http_request_t *r, const char *type)
{
    size_t      len;
    ngx_str_t  *ct;

    ct = &r->headers_out.content_type;
    len = ngx_strlen(type);

    return ct->len >= len && ngx_strncasecmp(ct->data, (u_char *) type, len) == 0
           && (ct->len == len || ct->data[len] == ';' || ct->data[len] == ' ');
}


/*
 * Called by the header filter for a spent request at a metered location.
 * NGX_DECLINED: not metered here (the caller charges as configured);
 * NGX_DONE: the JSON answer is held, the header waits for it;
 * NGX_OK: a stream, whose header goes on now, without the voucher.
 */
ngx_int_t
ngx_http_zkcredit_meter_header(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_table_elt_t  *encoding;

    if (r->header_only) {
        return NGX_DECLINED;
    }

    encoding = r->headers_out.content_encoding;

    if (encoding != NULL && encoding->hash != 0
        && !(encoding->value.len == 8
             && ngx_strncasecmp(encoding->value.data, (u_char *) "identity", 8)
                == 0))
    {
        ngx_http_zkcredit_count_fallback(r, NGX_HTTP_ZKCREDIT_FALLBACK_ENCODED);
        return NGX_DECLINED;
    }

    if (ngx_http_zkcredit_type_is(r, "text/event-stream")) {
        ctx->body = NGX_HTTP_ZKCREDIT_BODY_STREAM;
        r->filter_need_in_memory = 1;

        /* the voucher event changes the length */
        ngx_http_clear_content_length(r);
        ngx_http_clear_accept_ranges(r);

        /* the voucher comes at the end: no stale refund meanwhile */
        ngx_http_zkcredit_mark_serving(r, ctx);
        return NGX_OK;
    }

    if (ngx_http_zkcredit_type_is(r, "application/json")) {
        ctx->body = NGX_HTTP_ZKCREDIT_BODY_HOLD;
        r->filter_need_in_memory = 1;
        return NGX_DONE;
    }

    return NGX_DECLINED;
}


/* the stream was cut or abandoned before its voucher event */
void
ngx_http_zkcredit_meter_abandoned(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_str_t  voucher;

    ngx_http_zkcredit_settle(r, ctx,
        ngx_http_zkcredit_metered_charge(r, ctx,
            ctx->usage.found ? -1 : NGX_HTTP_ZKCREDIT_FALLBACK_ABANDONED),
        0, &voucher);
}


/* a buffer for stream output, from the filter's own free list */
static ngx_buf_t *
ngx_http_zkcredit_out_buf(ngx_http_request_t *r, ngx_http_zkcredit_ctx_t *ctx,
    ngx_chain_t ***last, size_t want)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    cl = ngx_chain_get_free_buf(r->pool, &ctx->free);
    if (cl == NULL) {
        return NULL;
    }

    b = cl->buf;

    if (b->start == NULL || static_cast<size_t>(b->end - b->start) < want) {
        b->start = static_cast<u_char *>(
                       ngx_palloc(r->pool, ngx_max(want, NGX_HTTP_ZKCREDIT_STREAM_BUF)));
        if (b->start == NULL) {
            return NULL;
        }
        b->end = b->start + ngx_max(want, NGX_HTTP_ZKCREDIT_STREAM_BUF);
    }

    b->pos = b->start;
    b->last = b->start;
    b->memory = 1;
    b->flush = 0;
    b->last_buf = 0;
    b->last_in_chain = 0;
    b->tag = (ngx_buf_tag_t) &ngx_http_zkcredit_module;

    **last = cl;
    *last = &cl->next;

    return b;
}


/* appends bytes to the output, filling the last buffer first */
static ngx_int_t
ngx_http_zkcredit_emit(ngx_http_request_t *r, ngx_http_zkcredit_ctx_t *ctx,
    ngx_chain_t **out, ngx_chain_t ***last, const u_char *data, size_t len)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    b = NULL;

    if (*out != NULL) {
        for (cl = *out; cl->next; cl = cl->next) { /* void */ }
        b = cl->buf;
    }

    if (b == NULL || static_cast<size_t>(b->end - b->last) < len) {
        b = ngx_http_zkcredit_out_buf(r, ctx, last, len);
        if (b == NULL) {
            return NGX_ERROR;
        }
    }

    b->last = ngx_cpymem(b->last, data, len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_zkcredit_emit_voucher(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_chain_t **out, ngx_chain_t ***last)
{
    u_char     *p, *end;
    size_t      len;
    ngx_str_t   voucher;

    ctx->stream_done = 1;

    ngx_http_zkcredit_settle(r, ctx,
        ngx_http_zkcredit_metered_charge(r, ctx, -1), 0, &voucher);
    if (voucher.len == 0) {
        return NGX_ERROR;
    }

    len = sizeof(":  \n") - 1 + ctx->conf->refund_event.len + voucher.len;
    p = static_cast<u_char *>(ngx_pnalloc(r->pool, len));
    if (p == NULL) {
        return NGX_ERROR;
    }

    end = ngx_sprintf(p, ": %V %V\n", &ctx->conf->refund_event, &voucher);

    return ngx_http_zkcredit_emit(r, ctx, out, last, p, end - p);
}


/* one complete SSE line, with its line end */
static ngx_int_t
ngx_http_zkcredit_stream_line(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_chain_t **out, ngx_chain_t ***last,
    const u_char *line, size_t len)
{
    size_t                     n;
    std::string_view           value;
    ngx_http_zkcredit_usage_t  usage;

    n = ctx->conf->refund_event.len;

    if (len >= n + 2 && line[0] == ':' && line[1] == ' '
        && ngx_strncmp(line + 2, ctx->conf->refund_event.data, n) == 0
        && (len == n + 2 || line[n + 2] == ' ' || line[n + 2] == '\n'
            || line[n + 2] == '\r'))
    {
        /* only the gateway writes this comment: the upstream's copy goes */
        return NGX_OK;
    }

    if (libverify::sse_field(
            std::string_view(reinterpret_cast<const char *>(line), len),
            "data", value))
    {
        if (value == "[DONE]" && !ctx->stream_done)
        {
            /* SDKs stop reading at [DONE]: the voucher comes before it */
            if (ngx_http_zkcredit_emit_voucher(r, ctx, out, last) != NGX_OK) {
                return NGX_ERROR;
            }

        } else if (!ctx->stream_done && libverify::may_carry_usage(value)) {
            ngx_memzero(&usage, sizeof(usage));

            if (ngx_http_zkcredit_read_answer(
                    reinterpret_cast<const u_char *>(value.data()),
                    value.size(), &usage, NULL, r->pool)
                && usage.found)
            {
                ctx->usage = usage;
            }
        }
    }

    return ngx_http_zkcredit_emit(r, ctx, out, last, line, len);
}


static ngx_int_t
ngx_http_zkcredit_stream_filter(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_chain_t *in)
{
    u_char       *p, *end, *nl;
    size_t        n;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t  *out, **last, *cl, *tail;

    out = NULL;
    last = &out;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        p = b->pos;
        end = b->last;

        while (p < end) {
            nl = static_cast<u_char *>(ngx_strlchr(p, end, '\n'));
            n = (nl != NULL ? nl + 1 : end) - p;

            if (ctx->line_skipping
                || ctx->line_len + n > NGX_HTTP_ZKCREDIT_LINE_MAX)
            {
                /* too long to read: what is held and the rest go on as is */
                if (ctx->line_len) {
                    rc = ngx_http_zkcredit_emit(r, ctx, &out, &last, ctx->line,
                                                ctx->line_len);
                    ctx->line_len = 0;
                    if (rc != NGX_OK) {
                        return NGX_ERROR;
                    }
                }
                if (ngx_http_zkcredit_emit(r, ctx, &out, &last, p, n) != NGX_OK) {
                    return NGX_ERROR;
                }
                ctx->line_skipping = (nl == NULL);

            } else if (nl == NULL || ctx->line_len) {
                if (ctx->line == NULL) {
                    ctx->line = static_cast<u_char *>(
                                    ngx_palloc(r->pool, NGX_HTTP_ZKCREDIT_LINE_MAX));
                    if (ctx->line == NULL) {
                        return NGX_ERROR;
                    }
                }
                ngx_memcpy(ctx->line + ctx->line_len, p, n);
                ctx->line_len += n;

                if (nl != NULL) {
                    rc = ngx_http_zkcredit_stream_line(r, ctx, &out, &last,
                                                       ctx->line, ctx->line_len);
                    ctx->line_len = 0;
                    if (rc != NGX_OK) {
                        return NGX_ERROR;
                    }
                }

            } else if (ngx_http_zkcredit_stream_line(r, ctx, &out, &last, p, n)
                       != NGX_OK)
            {
                return NGX_ERROR;
            }

            p += n;
        }

        b->pos = b->last;

        if (b->last_buf || b->flush) {
            if (b->last_buf) {
                /* a stream cut in the middle of a line ends that event */
                if (ctx->line_len) {
                    rc = ngx_http_zkcredit_emit(r, ctx, &out, &last, ctx->line,
                                                ctx->line_len);
                    ctx->line_len = 0;
                    if (rc != NGX_OK
                        || ngx_http_zkcredit_emit(r, ctx, &out, &last,
                                                  (u_char *) "\n\n", 2)
                           != NGX_OK)
                    {
                        return NGX_ERROR;
                    }
                }

                if (!ctx->stream_done
                    && ngx_http_zkcredit_emit_voucher(r, ctx, &out, &last)
                       != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }

            if (out == NULL && !b->last_buf) {
                /* nothing new to send: what was sent was flushed then */
                continue;
            }

            if (out == NULL) {
                /* the end, alone: a special buffer, holding no memory */
                out = ngx_alloc_chain_link(r->pool);
                if (out == NULL) {
                    return NGX_ERROR;
                }
                out->buf = static_cast<ngx_buf_t *>(ngx_calloc_buf(r->pool));
                if (out->buf == NULL) {
                    return NGX_ERROR;
                }
                out->next = NULL;
                last = &out->next;
            }

            for (tail = out; tail->next; tail = tail->next) { /* void */ }
            tail->buf->last_buf = b->last_buf;
            tail->buf->last_in_chain = b->last_in_chain;
            tail->buf->flush = 1;
        }
    }

    *last = NULL;

    rc = ngx_http_next_body_filter(r, out);

    ngx_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &out,
                            (ngx_buf_tag_t) &ngx_http_zkcredit_module);

    return rc;
}


/* the whole JSON answer is here: its charge, then its header and body */
static ngx_int_t
ngx_http_zkcredit_release_held(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_int_t fallback, ngx_chain_t *rest)
{
    ngx_int_t     rc;
    ngx_str_t     voucher, policy;
    ngx_buf_t    *b;
    ngx_chain_t  *out;

    policy.len = 0;
    policy.data = NULL;

    if (fallback < 0
        && !ngx_http_zkcredit_read_answer(ctx->held, ctx->held_len, &ctx->usage,
                                          &policy, r->pool))
    {
        fallback = NGX_HTTP_ZKCREDIT_FALLBACK_UNPARSEABLE;
    }

    if (policy.len) {
        if (ngx_http_zkcredit_refuse_by_policy(r, ctx, &policy, &voucher)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        ngx_http_zkcredit_settle(r, ctx,
                                 ngx_http_zkcredit_metered_charge(r, ctx, fallback),
                                 0, &voucher);
    }

    ctx->body = NGX_HTTP_ZKCREDIT_BODY_PASS;

    if (voucher.len == 0
        || ngx_http_zkcredit_push_header(r, &ctx->deployment->refund_header,
                                         &voucher) == NULL)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_zkcredit_send_held_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out = ngx_alloc_chain_link(r->pool);
    b = static_cast<ngx_buf_t *>(ngx_calloc_buf(r->pool));
    if (out == NULL || b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ctx->held;
    b->last = ctx->held + ctx->held_len;
    b->memory = ctx->held_len ? 1 : 0;
    b->last_buf = (rest == NULL);
    b->last_in_chain = 1;
    b->flush = 1;

    out->buf = b;
    out->next = rest;

    return ngx_http_next_body_filter(r, out);
}


static ngx_int_t
ngx_http_zkcredit_hold_filter(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_chain_t *in)
{
    size_t        size, want;
    u_char       *held;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        size = ngx_buf_in_memory(b) ? static_cast<size_t>(b->last - b->pos) : 0;

        if (ctx->held_len + size > ctx->conf->meter_buffer) {
            /* too big to hold: it goes on as it comes, charged C_max */
            return ngx_http_zkcredit_release_held(r, ctx,
                       NGX_HTTP_ZKCREDIT_FALLBACK_TOO_LARGE, cl);
        }

        if (ctx->held_len + size > ctx->held_size) {
            want = ngx_min(ngx_max(2 * ctx->held_size,
                                   ngx_max(ctx->held_len + size, 4096)),
                           ctx->conf->meter_buffer);
            held = static_cast<u_char *>(ngx_palloc(r->pool, want));
            if (held == NULL) {
                return NGX_ERROR;
            }
            if (ctx->held_len) {
                ngx_memcpy(held, ctx->held, ctx->held_len);
            }
            ctx->held = held;
            ctx->held_size = want;
        }

        if (size) {
            ngx_memcpy(ctx->held + ctx->held_len, b->pos, size);
            ctx->held_len += size;
            b->pos = b->last;
        }

        if (b->last_buf) {
            return ngx_http_zkcredit_release_held(r, ctx, -1, NULL);
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_zkcredit_meter_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_zkcredit_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_zkcredit_get_ctx(r);

    if (ctx == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    switch (ctx->body) {

    case NGX_HTTP_ZKCREDIT_BODY_HOLD:
        return ngx_http_zkcredit_hold_filter(r, ctx, in);

    case NGX_HTTP_ZKCREDIT_BODY_STREAM:
        return ngx_http_zkcredit_stream_filter(r, ctx, in);

    default:
        return ngx_http_next_body_filter(r, in);
    }
}


/*
 * The price of a JSON-RPC request or batch, read in the verification
 * thread: the methods' prices summed, at most 2^64 - 1 (the caller caps it
 * at C_max). NGX_DECLINED for a body that is not JSON-RPC.
 */
ngx_int_t
ngx_http_zkcredit_rpc_charge(ngx_http_zkcredit_loc_conf_t *lcf,
    const u_char *body, size_t len, uint64_t *charge)
{
    uint64_t                        price;
    ngx_uint_t                      i;
    unsigned __int128               sum;
    std::vector<std::string>        methods;
    ngx_http_zkcredit_rpc_price_t  *prices;

    if (!libverify::rpc_methods(
            std::string_view(reinterpret_cast<const char *>(body), len),
            methods))
    {
        return NGX_DECLINED;
    }

    prices = lcf->rpc_prices
             ? static_cast<ngx_http_zkcredit_rpc_price_t *>(lcf->rpc_prices->elts)
             : NULL;
    sum = 0;

    for (const std::string &name : methods) {

        /* without a "*" price, 2^64 - 1: the caller caps it to C_max */
        price = lcf->rpc_default;

        for (i = 0; prices && i < lcf->rpc_prices->nelts; i++) {
            if (prices[i].method.len == name.size()
                && ngx_strncmp(prices[i].method.data, name.data(), name.size())
                   == 0)
            {
                price = prices[i].price;
                break;
            }
        }

        sum += price;
    }

    *charge = sum < UINT64_MAX ? static_cast<uint64_t>(sum) : UINT64_MAX;

    return NGX_OK;
}


/* "zkcredit_token_price model prompt completion [cached=N] [reasoning=N]" */
char *
ngx_http_zkcredit_token_price(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_zkcredit_loc_conf_t *zlcf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(conf);

    ngx_str_t                        *value, number;
    ngx_uint_t                        i;
    ngx_http_zkcredit_token_price_t  *price;

    value = static_cast<ngx_str_t *>(cf->args->elts);

    if (cf->args->nelts < 4 || cf->args->nelts > 6) {
        return const_cast<char *>("takes a model, a prompt and a completion "
                                  "price, and optionally cached= and "
                                  "reasoning=");
    }

    if (zlcf->token_prices == NGX_CONF_UNSET_PTR) {
        zlcf->token_prices = ngx_array_create(cf->pool, 4,
                                 sizeof(ngx_http_zkcredit_token_price_t));
        if (zlcf->token_prices == NULL) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }
    }

    price = static_cast<ngx_http_zkcredit_token_price_t *>(
                ngx_array_push(zlcf->token_prices));
    if (price == NULL) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    price->model = value[1];

    if (ngx_http_zkcredit_parse_amount(&value[2], &price->prompt) != NGX_OK
        || ngx_http_zkcredit_parse_amount(&value[3], &price->completion)
           != NGX_OK)
    {
        goto invalid;
    }

    price->cached = price->prompt;
    price->reasoning = price->completion;

    for (i = 4; i < cf->args->nelts; i++) {
        if (ngx_strncmp(value[i].data, "cached=", 7) == 0) {
            number.data = value[i].data + 7;
            number.len = value[i].len - 7;
            if (ngx_http_zkcredit_parse_amount(&number, &price->cached) != NGX_OK) {
                goto invalid;
            }

        } else if (ngx_strncmp(value[i].data, "reasoning=", 10) == 0) {
            number.data = value[i].data + 10;
            number.len = value[i].len - 10;
            if (ngx_http_zkcredit_parse_amount(&number, &price->reasoning)
                != NGX_OK)
            {
                goto invalid;
            }

        } else {
            goto invalid;
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid token price for \"%V\": whole credit units "
                       "per million tokens expected", &value[1]);
    return static_cast<char *>(NGX_CONF_ERROR);
}


/* "zkcredit_rpc_price method units"; the method "*" prices all others */
char *
ngx_http_zkcredit_rpc_price(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_zkcredit_loc_conf_t *zlcf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(conf);

    uint64_t                        amount;
    ngx_str_t                      *value;
    ngx_http_zkcredit_rpc_price_t  *price;

    value = static_cast<ngx_str_t *>(cf->args->elts);

    if (ngx_http_zkcredit_parse_amount(&value[2], &amount) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid price \"%V\" for \"%V\": whole credit "
                           "units expected", &value[2], &value[1]);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (value[1].len == 1 && value[1].data[0] == '*') {
        zlcf->rpc_default = amount;
        return NGX_CONF_OK;
    }

    if (zlcf->rpc_prices == NGX_CONF_UNSET_PTR) {
        zlcf->rpc_prices = ngx_array_create(cf->pool, 8,
                                            sizeof(ngx_http_zkcredit_rpc_price_t));
        if (zlcf->rpc_prices == NULL) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }
    }

    price = static_cast<ngx_http_zkcredit_rpc_price_t *>(
                ngx_array_push(zlcf->rpc_prices));
    if (price == NULL) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    price->method = value[1];
    price->price = amount;

    return NGX_CONF_OK;
}
