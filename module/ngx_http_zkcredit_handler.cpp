/*
 * zkcredit: the access-phase gate.
 *
 * One request goes through these states, re-entering the handler after
 * each asynchronous step (the auth_request pattern):
 *
 *   START   find the credential header, read the body if there is one;
 *   VERIFY  a thread decodes the credential, computes the binding x from
 *           the request as received and verifies the proof;
 *   SPEND   only after the proof verifies, one Lua script in Redis checks
 *           the root and stores the nullifier unless it is there already;
 *   DONE    the outcome becomes "serve" or a problem response.
 */

#include "ngx_http_zkcredit_module.h"
#include "ngx_http_zkcredit_elapsed.h"

#include <time.h>
#include <type_traits>


typedef struct {
    ngx_uint_t  status;
    ngx_str_t   type;
    ngx_str_t   title;
    ngx_str_t   detail;
} ngx_http_zkcredit_problem_t;


/* indexed by ngx_http_zkcredit_problem_e */
static ngx_http_zkcredit_problem_t  ngx_http_zkcredit_problems[] = {
    { NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED,
      ngx_string("urn:zkcredit:problem:credential-required"),
      ngx_string("Payment Required"),
      ngx_string("This resource is paid for with a zkcredit credential, "
                 "and the request carried none.") },
    { NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED,
      ngx_string("urn:zkcredit:problem:credential-invalid"),
      ngx_string("Payment Required"),
      ngx_string("The zkcredit credential was not accepted.") },
    { NGX_HTTP_CONFLICT,
      ngx_string("urn:zkcredit:problem:ticket-spent"),
      ngx_string("Conflict"),
      ngx_string("This credential's ticket was spent already; the refund of "
                 "its first use can be fetched by nullifier.") },
    { NGX_HTTP_SERVICE_UNAVAILABLE,
      ngx_string("urn:zkcredit:problem:store-unavailable"),
      ngx_string("Service Unavailable"),
      ngx_string("Credentials cannot be checked right now; nothing was "
                 "spent. Retry later.") }
};


/* why a request was refused, for the server log only */
static const char  *ngx_http_zkcredit_outcome_reasons[] = {
    "accepted",
    "no credential",
    "malformed credential",
    "unknown server key",
    "proof does not verify",
    "unknown or expired root",
    "replayed ticket",
    "double-spent ticket",
    "store unavailable",
    "internal error"
};


/*
 * KEYS[1] the nullifier's record, KEYS[2] the accepted roots (score: when
 * the root stopped being current, +inf while it is);
 * ARGV root, x, y, root window in seconds.
 * Returns {0} for a root not accepted, {1} when the nullifier was new and is
 * now stored, {2, x, y} with what was stored before.
 */
static ngx_str_t  ngx_http_zkcredit_spend_script = ngx_string(
    "local score = redis.call('ZSCORE', KEYS[2], ARGV[1])\n"
    "if not score then return {0} end\n"
    "if score ~= 'inf' then\n"
    "  local now = tonumber(redis.call('TIME')[1])\n"
    "  if tonumber(score) + tonumber(ARGV[4]) < now then return {0} end\n"
    "end\n"
    "local seen = redis.call('HMGET', KEYS[1], 'x', 'y')\n"
    "if seen[1] then return {2, seen[1], seen[2]} end\n"
    "redis.call('HSET', KEYS[1], 'x', ARGV[2], 'y', ARGV[3])\n"
    "return {1}\n");


static void ngx_http_zkcredit_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_zkcredit_start_verify(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_ctx_t *ctx);
static void ngx_http_zkcredit_verify_thread(void *data, ngx_log_t *log);
static void ngx_http_zkcredit_verify_done(ngx_event_t *ev);
static void ngx_http_zkcredit_guard_expired(ngx_event_t *ev);
static ngx_int_t ngx_http_zkcredit_spend(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_ctx_t *ctx);
static void ngx_http_zkcredit_spend_reply(void *data, redisReply *reply);
static void ngx_http_zkcredit_evidence_reply(void *data, redisReply *reply);
static void ngx_http_zkcredit_record_double_spend(ngx_http_zkcredit_ctx_t *ctx,
    const libverify::Fr &x1, const libverify::Fr &y1);
static void ngx_http_zkcredit_wake(ngx_event_t *ev);
static void ngx_http_zkcredit_cleanup(void *data);
static ngx_int_t ngx_http_zkcredit_decide(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_ctx_t *ctx);


/* job objects live in the request pool, which runs no destructors */
static_assert(std::is_trivially_destructible<ngx_http_zkcredit_job_t>::value,
              "job must be trivially destructible");


ngx_int_t
ngx_http_zkcredit_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_uint_t                     count;
    ngx_table_elt_t               *h;
    ngx_http_zkcredit_ctx_t       *ctx;
    ngx_http_zkcredit_job_t       *job;
    ngx_http_zkcredit_loc_conf_t  *lcf;

    lcf = static_cast<ngx_http_zkcredit_loc_conf_t *>(
              ngx_http_get_module_loc_conf(r, ngx_http_zkcredit_module));

    if (lcf->mode == NGX_HTTP_ZKCREDIT_OFF) {
        return NGX_DECLINED;
    }

    ctx = static_cast<ngx_http_zkcredit_ctx_t *>(
              ngx_http_get_module_ctx(r, ngx_http_zkcredit_module));

    if (ctx != NULL) {
        switch (ctx->state) {

        case NGX_HTTP_ZKCREDIT_STATE_SPEND:
            return (ctx->op != NULL) ? NGX_AGAIN
                                     : ngx_http_zkcredit_spend(r, lcf, ctx);

        case NGX_HTTP_ZKCREDIT_STATE_DONE:
            return (ctx->op != NULL) ? NGX_AGAIN
                                     : ngx_http_zkcredit_decide(r, lcf, ctx);

        default:
            /* a stray event while the body is read or the proof checked */
            return NGX_AGAIN;
        }
    }

    ctx = static_cast<ngx_http_zkcredit_ctx_t *>(
              ngx_pcalloc(r->pool, sizeof(ngx_http_zkcredit_ctx_t)));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ngx_http_set_ctx(r, ctx, ngx_http_zkcredit_module);

    h = ngx_http_zkcredit_find_header(&r->headers_in.headers, &lcf->header_name,
                                      &count);

    if (h == NULL || count > 1) {
        ctx->outcome = (h == NULL) ? NGX_HTTP_ZKCREDIT_MISSING
                                   : NGX_HTTP_ZKCREDIT_MALFORMED;
        ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
        return ngx_http_zkcredit_decide(r, lcf, ctx);
    }

    job = static_cast<ngx_http_zkcredit_job_t *>(
              ngx_palloc(r->pool, sizeof(ngx_http_zkcredit_job_t)));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    new (job) ngx_http_zkcredit_job_t();
    job->deployment = lcf->deployment;
    job->accepted_keys = lcf->accepted_keys;
    job->credential_text = h->value;
    job->method = r->method_name;
    job->target = r->unparsed_uri;
    ctx->job = job;

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        return ngx_http_zkcredit_start_verify(r, lcf, ctx);
    }

    /* x binds the body: it must be read whole before anything is decided */
    ctx->state = NGX_HTTP_ZKCREDIT_STATE_BODY;

    rc = ngx_http_read_client_request_body(r, ngx_http_zkcredit_body_handler);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);
    return NGX_DONE;
}


static void
ngx_http_zkcredit_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_zkcredit_ctx_t       *ctx;
    ngx_http_zkcredit_loc_conf_t  *lcf;

    ctx = static_cast<ngx_http_zkcredit_ctx_t *>(
              ngx_http_get_module_ctx(r, ngx_http_zkcredit_module));
    lcf = static_cast<ngx_http_zkcredit_loc_conf_t *>(
              ngx_http_get_module_loc_conf(r, ngx_http_zkcredit_module));

    r->preserve_body = 1;
    r->write_event_handler = ngx_http_core_run_phases;

    if (r->request_body != NULL) {
        ctx->job->body = r->request_body->bufs;
    }

    rc = ngx_http_zkcredit_start_verify(r, lcf, ctx);

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_http_core_run_phases(r);
}


static ngx_int_t
ngx_http_zkcredit_start_verify(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_thread_task_t  *task;

    task = ngx_thread_task_alloc(r->pool, 0);
    if (task == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    task->ctx = ctx->job;
    task->handler = ngx_http_zkcredit_verify_thread;
    task->event.handler = ngx_http_zkcredit_verify_done;
    task->event.data = r;

    if (ngx_thread_task_post(lcf->thread_pool, task) != NGX_OK) {
        ctx->outcome = NGX_HTTP_ZKCREDIT_INTERNAL_ERROR;
        ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
        return ngx_http_zkcredit_decide(r, lcf, ctx);
    }

    /* "blocked" keeps a terminated request alive until the thread is done */
    r->main->blocked++;
    r->aio = 1;
    ctx->state = NGX_HTTP_ZKCREDIT_STATE_VERIFY;

    /*
     * A worker shutting down (a reload) exits once no timer is left; this
     * one keeps it until the verification it waits for has come back.
     */
    ctx->guard.handler = ngx_http_zkcredit_guard_expired;
    ctx->guard.data = ctx;
    ctx->guard.log = r->connection->log;
    ngx_add_timer(&ctx->guard, NGX_HTTP_ZKCREDIT_VERIFY_GUARD);

    return NGX_AGAIN;
}


static void
ngx_http_zkcredit_guard_expired(ngx_event_t *ev)
{
    ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                  "zkcredit: verification still running after %M ms",
                  static_cast<ngx_msec_t>(NGX_HTTP_ZKCREDIT_VERIFY_GUARD));
}


/*
 * Runs in a thread-pool thread: pure computation and file reads, no nginx
 * state, no logging.
 */
static void
ngx_http_zkcredit_verify_thread(void *data, ngx_log_t *log)
{
    ngx_http_zkcredit_job_t *job = static_cast<ngx_http_zkcredit_job_t *>(data);

    u_char                      buf[65536];
    off_t                       pos;
    size_t                      size;
    ssize_t                     n;
    timespec                    start, end;
    ngx_buf_t                  *b;
    ngx_uint_t                  i;
    ngx_chain_t                *cl;
    libverify::Fr              *keys;
    libverify::Status           st;
    libverify::RequestBinder    binder;

    clock_gettime(CLOCK_MONOTONIC, &start);

    st = libverify::credential_decode(
             std::string_view(reinterpret_cast<char *>(job->credential_text.data),
                              job->credential_text.len),
             job->credential);

    if (st != libverify::Status::ok) {
        job->status = st;
        job->outcome = NGX_HTTP_ZKCREDIT_MALFORMED;
        return;
    }

    keys = static_cast<libverify::Fr *>(job->accepted_keys->elts);

    for (i = 0; i < job->accepted_keys->nelts; i++) {
        if (keys[i] == job->credential.key_hash) {
            break;
        }
    }

    if (i == job->accepted_keys->nelts) {
        job->outcome = NGX_HTTP_ZKCREDIT_UNKNOWN_KEY;
        return;
    }

    if (binder.start(std::string_view(reinterpret_cast<char *>(job->method.data),
                                      job->method.len),
                     std::string_view(reinterpret_cast<char *>(job->target.data),
                                      job->target.len))
        != libverify::Status::ok)
    {
        job->outcome = NGX_HTTP_ZKCREDIT_MALFORMED;
        return;
    }

    for (cl = job->body; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            binder.update_body(b->pos, static_cast<size_t>(b->last - b->pos));
            continue;
        }

        if (!b->in_file) {
            continue;
        }

        for (pos = b->file_pos; pos < b->file_last; pos += n) {
            size = static_cast<size_t>(ngx_min(b->file_last - pos,
                                               static_cast<off_t>(sizeof(buf))));
            n = pread(b->file->fd, buf, size, pos);

            if (n <= 0) {
                job->read_errno = (n < 0) ? ngx_errno : 0;
                job->outcome = NGX_HTTP_ZKCREDIT_INTERNAL_ERROR;
                return;
            }

            binder.update_body(buf, static_cast<size_t>(n));
        }
    }

    job->x = binder.finish(job->credential.nonce.data());

    st = libverify::credential_verify(*job->deployment, job->credential, job->x);

    clock_gettime(CLOCK_MONOTONIC, &end);
    job->verify_usec = ngx_http_zkcredit_elapsed_usec(&start, &end);
    job->status = st;

    if (st == libverify::Status::ok) {
        job->outcome = NGX_HTTP_ZKCREDIT_ACCEPTED;

    } else if (st == libverify::Status::internal_error) {
        job->outcome = NGX_HTTP_ZKCREDIT_INTERNAL_ERROR;

    } else {
        job->outcome = NGX_HTTP_ZKCREDIT_INVALID_PROOF;
    }
}


static void
ngx_http_zkcredit_observe_verify(ngx_http_request_t *r, uint64_t usec)
{
    ngx_uint_t                     i;
    ngx_http_zkcredit_counters_t  *counters;

    static const uint64_t  bounds[NGX_HTTP_ZKCREDIT_VERIFY_BUCKETS] = {
        250, 500, 1000, 2000, 5000, 10000, 50000, 250000
    };

    counters = ngx_http_zkcredit_counters(r);
    if (counters == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&counters->verify_count, 1);
    (void) ngx_atomic_fetch_add(&counters->verify_usec,
                                static_cast<ngx_atomic_int_t>(usec));

    for (i = 0; i < NGX_HTTP_ZKCREDIT_VERIFY_BUCKETS; i++) {
        if (usec <= bounds[i]) {
            (void) ngx_atomic_fetch_add(&counters->verify_le[i], 1);
        }
    }
}


static void
ngx_http_zkcredit_verify_done(ngx_event_t *ev)
{
    ngx_connection_t         *c;
    ngx_http_request_t       *r;
    ngx_http_zkcredit_ctx_t  *ctx;

    r = static_cast<ngx_http_request_t *>(ev->data);
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    r->main->blocked--;
    r->aio = 0;

    ctx = static_cast<ngx_http_zkcredit_ctx_t *>(
              ngx_http_get_module_ctx(r, ngx_http_zkcredit_module));

    if (ctx->guard.timer_set) {
        ngx_del_timer(&ctx->guard);
    }

    if (ctx->job->verify_usec) {
        ngx_http_zkcredit_observe_verify(r, ctx->job->verify_usec);
    }

    if (ctx->job->outcome == NGX_HTTP_ZKCREDIT_INTERNAL_ERROR
        && ctx->job->read_errno)
    {
        ngx_log_error(NGX_LOG_ERR, c->log, ctx->job->read_errno,
                      "zkcredit: reading the buffered request body failed");
    }

    if (ctx->job->outcome == NGX_HTTP_ZKCREDIT_ACCEPTED) {
        ctx->state = NGX_HTTP_ZKCREDIT_STATE_SPEND;

    } else {
        ctx->outcome = ctx->job->outcome;
        ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
    }

    ngx_http_zkcredit_resume(r);
}


static ngx_int_t
ngx_http_zkcredit_spend(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_http_cleanup_t       *cln;
    libverify::Credential    *cred;
    ngx_http_zkcredit_cmd_t   cmd;

    cred = &ctx->job->credential;

    ngx_http_zkcredit_field_hex(cred->nullifier, ctx->nullifier_hex);

    ngx_http_zkcredit_cmd_init(&cmd, r, "EVAL");
    ngx_http_zkcredit_cmd_arg(&cmd, ngx_http_zkcredit_spend_script.data,
                              ngx_http_zkcredit_spend_script.len);
    ngx_http_zkcredit_cmd_literal(&cmd, "2");
    ngx_http_zkcredit_cmd_key(&cmd, "n:", ctx->nullifier_hex,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);
    ngx_http_zkcredit_cmd_key(&cmd, "roots", NULL, 0);
    ngx_http_zkcredit_cmd_field(&cmd, cred->root);
    ngx_http_zkcredit_cmd_field(&cmd, ctx->job->x);
    ngx_http_zkcredit_cmd_field(&cmd, cred->signal);
    ngx_http_zkcredit_cmd_time(&cmd, lcf->root_window);

    if (ctx->wake.handler == NULL) {
        cln = ngx_http_cleanup_add(r, 0);
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_http_zkcredit_cleanup;
        cln->data = ctx;

        ctx->wake.handler = ngx_http_zkcredit_wake;
        ctx->wake.data = ctx;
        ctx->wake.log = r->connection->log;
    }

    ctx->op = ngx_http_zkcredit_redis_send(r->connection->log,
                                           ngx_http_zkcredit_spend_reply, ctx,
                                           &cmd);

    if (ctx->op == NULL) {
        ctx->outcome = NGX_HTTP_ZKCREDIT_STORE_ERROR;
        ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
        return ngx_http_zkcredit_decide(r, lcf, ctx);
    }

    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_zkcredit_reply_field(redisReply *reply, libverify::Fr *out)
{
    u_char  bytes[32];

    if (reply->type != REDIS_REPLY_STRING
        || ngx_http_zkcredit_unhex(reinterpret_cast<u_char *>(reply->str),
                                   reply->len, bytes, sizeof(bytes))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return libverify::Fr::from_bytes_be(bytes, *out) ? NGX_OK : NGX_ERROR;
}


/* called from hiredis: decide, but resume the request from a posted event */
static void
ngx_http_zkcredit_spend_reply(void *data, redisReply *reply)
{
    ngx_http_zkcredit_ctx_t *ctx = static_cast<ngx_http_zkcredit_ctx_t *>(data);

    libverify::Fr   x1, y1;
    redisReply    **el;

    ctx->op = NULL;
    ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
    ctx->outcome = NGX_HTTP_ZKCREDIT_STORE_ERROR;

    if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1
        && reply->element[0]->type == REDIS_REPLY_INTEGER)
    {
        el = reply->element;

        switch (el[0]->integer) {

        case 0:
            ctx->outcome = NGX_HTTP_ZKCREDIT_UNKNOWN_ROOT;
            break;

        case 1:
            ctx->outcome = NGX_HTTP_ZKCREDIT_ACCEPTED;
            break;

        case 2:
            if (reply->elements == 3
                && ngx_http_zkcredit_reply_field(el[1], &x1) == NGX_OK
                && ngx_http_zkcredit_reply_field(el[2], &y1) == NGX_OK)
            {
                if (x1 == ctx->job->x) {
                    ctx->outcome = NGX_HTTP_ZKCREDIT_REPLAY;

                } else {
                    ctx->outcome = NGX_HTTP_ZKCREDIT_DOUBLE_SPEND;
                    ngx_http_zkcredit_record_double_spend(ctx, x1, y1);

                    if (ctx->op != NULL) {
                        /* the refusal waits for the evidence to be stored */
                        return;
                    }
                }
            }
            break;

        default:
            break;
        }
    }

    if (ctx->outcome == NGX_HTTP_ZKCREDIT_STORE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "zkcredit: redis %s",
                      reply == NULL ? "failed or timed out"
                      : reply->type == REDIS_REPLY_ERROR ? "answered an error"
                      : "answered an unexpected reply");
    }

    ngx_post_event(&ctx->wake, &ngx_posted_events);
}


/*
 * Two shares of one ticket reveal the key: k = (y1 x2 - y2 x1) / (x2 - x1).
 * The evidence goes to a stream the registry consumes to revoke H(k). The
 * cheater's refusal is sent once Redis has answered the append, so whoever
 * sees the 409 can already find the evidence.
 */
static void
ngx_http_zkcredit_record_double_spend(ngx_http_zkcredit_ctx_t *ctx,
    const libverify::Fr &x1, const libverify::Fr &y1)
{
    libverify::Fr             k;
    ngx_http_request_t       *r;
    ngx_http_zkcredit_cmd_t   cmd;

    r = ctx->request;

    if (libverify::recover_rln_key(x1, y1, ctx->job->x,
                                   ctx->job->credential.signal, k)
        != libverify::Status::ok)
    {
        return;
    }

    ngx_http_zkcredit_cmd_init(&cmd, r, "XADD");
    ngx_http_zkcredit_cmd_key(&cmd, "evidence:double-spend", NULL, 0);
    ngx_http_zkcredit_cmd_literal(&cmd, "*");
    ngx_http_zkcredit_cmd_literal(&cmd, "k");
    ngx_http_zkcredit_cmd_field(&cmd, k);
    ngx_http_zkcredit_cmd_literal(&cmd, "id");
    ngx_http_zkcredit_cmd_field(&cmd, libverify::poseidon(&k, 1));
    ngx_http_zkcredit_cmd_literal(&cmd, "nullifier");
    ngx_http_zkcredit_cmd_arg(&cmd, ctx->nullifier_hex,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);
    ngx_http_zkcredit_cmd_literal(&cmd, "x1");
    ngx_http_zkcredit_cmd_field(&cmd, x1);
    ngx_http_zkcredit_cmd_literal(&cmd, "y1");
    ngx_http_zkcredit_cmd_field(&cmd, y1);
    ngx_http_zkcredit_cmd_literal(&cmd, "x2");
    ngx_http_zkcredit_cmd_field(&cmd, ctx->job->x);
    ngx_http_zkcredit_cmd_literal(&cmd, "y2");
    ngx_http_zkcredit_cmd_field(&cmd, ctx->job->credential.signal);
    /* the time to the minute only: evidence need not time a request */
    ngx_http_zkcredit_cmd_literal(&cmd, "minute");
    ngx_http_zkcredit_cmd_time(&cmd, ngx_time() / 60 * 60);

    sodium_memzero(&k, sizeof(k));

    ctx->op = ngx_http_zkcredit_redis_send(r->connection->log,
                                           ngx_http_zkcredit_evidence_reply,
                                           ctx, &cmd);
    if (ctx->op == NULL) {
        ngx_http_zkcredit_evidence_reply(ctx, NULL);
    }
}


/* the ticket is spent whatever happens here: a lost record is only logged */
static void
ngx_http_zkcredit_evidence_reply(void *data, redisReply *reply)
{
    ngx_http_zkcredit_ctx_t *ctx = static_cast<ngx_http_zkcredit_ctx_t *>(data);

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "zkcredit: double-spend evidence could not be stored");
    }

    if (ctx->op != NULL) {
        ctx->op = NULL;
        ngx_post_event(&ctx->wake, &ngx_posted_events);
    }
}


static void
ngx_http_zkcredit_wake(ngx_event_t *ev)
{
    ngx_http_zkcredit_ctx_t *ctx = static_cast<ngx_http_zkcredit_ctx_t *>(ev->data);

    ctx->request->read_event_handler = ngx_http_block_reading;
    ngx_http_zkcredit_resume(ctx->request);
}


static void
ngx_http_zkcredit_cleanup(void *data)
{
    ngx_http_zkcredit_ctx_t *ctx = static_cast<ngx_http_zkcredit_ctx_t *>(data);

    ngx_http_zkcredit_cancel(&ctx->op, &ctx->wake);
}


static ngx_int_t
ngx_http_zkcredit_decide(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_uint_t                      level;
    ngx_http_zkcredit_problem_e     problem;
    ngx_http_zkcredit_counters_t   *counters;

    if (!ctx->counted) {
        ctx->counted = 1;
        ngx_http_zkcredit_count(r, ctx->outcome);

        if (ctx->outcome != NGX_HTTP_ZKCREDIT_ACCEPTED
            && ctx->outcome != NGX_HTTP_ZKCREDIT_MISSING)
        {
            level = (ctx->outcome >= NGX_HTTP_ZKCREDIT_STORE_ERROR)
                    ? static_cast<ngx_uint_t>(NGX_LOG_ERR) : lcf->log_level;

            ngx_log_error(level, r->connection->log, 0,
                          "zkcredit: credential refused: %s%s%s",
                          ngx_http_zkcredit_outcome_reasons[ctx->outcome],
                          ctx->job && ctx->job->status != libverify::Status::ok
                          ? ", " : "",
                          ctx->job && ctx->job->status != libverify::Status::ok
                          ? libverify::status_name(ctx->job->status) : "");
        }
    }

    if (ctx->outcome == NGX_HTTP_ZKCREDIT_ACCEPTED) {
        ctx->spent = 1;
        return NGX_OK;
    }

    if (lcf->mode == NGX_HTTP_ZKCREDIT_SHADOW) {
        counters = ngx_http_zkcredit_counters(r);
        if (counters != NULL && !ctx->shadow_pass) {
            (void) ngx_atomic_fetch_add(&counters->shadow_passed, 1);
        }
        ctx->shadow_pass = 1;
        return NGX_DECLINED;
    }

    switch (ctx->outcome) {

    case NGX_HTTP_ZKCREDIT_MISSING:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_REQUIRED;
        break;

    case NGX_HTTP_ZKCREDIT_REPLAY:
    case NGX_HTTP_ZKCREDIT_DOUBLE_SPEND:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_SPENT;
        break;

    case NGX_HTTP_ZKCREDIT_STORE_ERROR:
    case NGX_HTTP_ZKCREDIT_INTERNAL_ERROR:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_UNAVAILABLE;
        break;

    default:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_INVALID;
        break;
    }

    ngx_http_finalize_request(r,
                              ngx_http_zkcredit_send_problem(r, lcf, problem));
    return NGX_DONE;
}


static ngx_int_t
ngx_http_zkcredit_add_header(ngx_http_request_t *r, const char *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = static_cast<ngx_table_elt_t *>(ngx_list_push(&r->headers_out.headers));
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = reinterpret_cast<u_char *>(const_cast<char *>(key));
    h->key.len = ngx_strlen(key);
    h->value = *value;

    if (ngx_strcmp(key, "WWW-Authenticate") == 0) {
        r->headers_out.www_authenticate = h;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_zkcredit_send_problem(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_problem_e problem)
{
    size_t                        len;
    u_char                       *body, *last;
    ngx_int_t                     rc;
    ngx_str_t                     value;
    ngx_buf_t                    *b;
    ngx_chain_t                   out;
    ngx_http_zkcredit_problem_t  *p;

    static ngx_str_t  no_store = ngx_string("no-store");
    static ngx_str_t  retry_after = ngx_string("1");

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    p = &ngx_http_zkcredit_problems[problem];

    if (p->status == NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED) {
        len = sizeof("ZKCredit realm=\"\", scope=\"\", c_max=\"\", key=\"\"")
              + lcf->realm.len + lcf->scope_text.len + NGX_UINT64_LEN
              + NGX_HTTP_ZKCREDIT_HEX_LEN;
        value.data = static_cast<u_char *>(ngx_pnalloc(r->pool, len));
        if (value.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        value.len = ngx_sprintf(value.data,
                                "ZKCredit realm=\"%V\", scope=\"%V\", "
                                "c_max=\"%uL\", key=\"%*s\"",
                                &lcf->realm, &lcf->scope_text, lcf->c_max,
                                static_cast<size_t>(NGX_HTTP_ZKCREDIT_HEX_LEN),
                                lcf->signer->packed)
                    - value.data;

        if (ngx_http_zkcredit_add_header(r, "WWW-Authenticate", &value)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (p->status == NGX_HTTP_SERVICE_UNAVAILABLE
        && ngx_http_zkcredit_add_header(r, "Retry-After", &retry_after)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_zkcredit_add_header(r, "Cache-Control", &no_store) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* every interpolated value is a JSON-safe token, checked at load */
    len = sizeof("{\"type\":\"\",\"title\":\"\",\"status\":,\"detail\":\"\","
                 "\"header\":\"\",\"scope\":\"\",\"c_max\":}\n")
          + p->type.len + p->title.len + NGX_INT_T_LEN + p->detail.len
          + lcf->header_name.len + lcf->scope_text.len + NGX_UINT64_LEN;
    body = static_cast<u_char *>(ngx_pnalloc(r->pool, len));
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_sprintf(body,
                       "{\"type\":\"%V\",\"title\":\"%V\",\"status\":%ui,"
                       "\"detail\":\"%V\",\"header\":\"%V\","
                       "\"scope\":\"%V\",\"c_max\":%uL}\n",
                       &p->type, &p->title, p->status, &p->detail,
                       &lcf->header_name, &lcf->scope_text, lcf->c_max);

    r->headers_out.status = p->status;
    ngx_str_set(&r->headers_out.content_type, "application/problem+json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = last - body;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = static_cast<ngx_buf_t *>(ngx_calloc_buf(r->pool));
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body;
    b->last = last;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
