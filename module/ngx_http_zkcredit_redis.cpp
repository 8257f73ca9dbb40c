/*
 * zkcredit: a per-worker asynchronous Redis client on nginx's event loop.
 *
 * hiredis formats commands and parses replies; this file owns the socket,
 * every timer and the order of replies. Debian's hiredis 0.14 has no
 * timeouts in its asynchronous API and assert()s on a reply nobody asked
 * for, so the asynchronous API is not used: commands go into the
 * context's output buffer, replies come out of its reader, and a queue here
 * hands each reply to the command it answers.
 *
 * Failure semantics, which the gate's answers rely on:
 *
 *   - send() returns NULL only when nothing was queued: the command will
 *     never reach the server. The caller may say "nothing happened". The
 *     same holds for a handler called with the "unsent" error reply
 *     (ngx_http_zkcredit_redis_unsent): the connection failed before the
 *     command left this process.
 *   - a command not answered in time has its handler run with NULL, but it
 *     stays in the queue: the connection is kept, and its late reply is
 *     dropped. One slow reply does not fail the commands behind it.
 *   - while a timed-out command has had no reply, the server is "stalled":
 *     new commands are refused (NULL) rather than queued behind it. A
 *     stall longer than the dead time drops the connection; every command
 *     still queued then has its handler run with NULL.
 *   - a durable write (a voucher, a refund, evidence) is copied and sent
 *     again until the server has answered it, as long as the worker lives.
 */

#include "ngx_http_zkcredit_module.h"

#include <sys/ioctl.h>


#define NGX_HTTP_ZKCREDIT_BACKOFF_MIN   100
#define NGX_HTTP_ZKCREDIT_BACKOFF_MAX   5000

/* a stalled connection is dropped after this many command timeouts */
#define NGX_HTTP_ZKCREDIT_DEAD_FACTOR   5

/* durable writes a worker keeps for a store that is away */
#define NGX_HTTP_ZKCREDIT_WRITES_MAX    16384


typedef enum {
    NGX_HTTP_ZKCREDIT_REDIS_IDLE = 0,
    NGX_HTTP_ZKCREDIT_REDIS_CONNECTING,
    NGX_HTTP_ZKCREDIT_REDIS_READY
} ngx_http_zkcredit_redis_state_e;


typedef struct ngx_http_zkcredit_write_s  ngx_http_zkcredit_write_t;

struct ngx_http_zkcredit_redis_op_s {
    ngx_queue_t                          queue;
    ngx_http_zkcredit_redis_handler_pt   handler;
    void                                *data;
    ngx_msec_t                           sent;
    ngx_event_t                          timeout;
};


/* a command that must reach the server, copied out of any request */
struct ngx_http_zkcredit_write_s {
    ngx_queue_t                          queue;
    const char                          *what;
    int                                  argc;
    const char                         **argv;
    size_t                              *lens;
};


typedef struct {
    redisContext                        *ctx;
    ngx_connection_t                    *conn;
    ngx_http_zkcredit_main_conf_t       *conf;
    ngx_log_t                           *log;
    ngx_http_zkcredit_redis_state_e      state;
    ngx_queue_t                          pending;    /* ops, in send order */
    ngx_uint_t                           unwritten;  /* the last ones */
    ngx_uint_t                           stalled;
    ngx_queue_t                          writes;     /* not yet answered */
    ngx_uint_t                           nwrites;
    ngx_event_t                          retry;
    ngx_msec_t                           backoff;
    ngx_msec_t                           retry_at;
    ngx_uint_t                           exiting;
} ngx_http_zkcredit_redis_t;


static ngx_int_t ngx_http_zkcredit_redis_connect(ngx_http_zkcredit_redis_t *rd);
static void ngx_http_zkcredit_redis_reset(ngx_http_zkcredit_redis_t *rd,
    const char *reason);
static ngx_http_zkcredit_redis_op_t *ngx_http_zkcredit_redis_queue(
    ngx_http_zkcredit_redis_t *rd, ngx_http_zkcredit_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *lens);
static void ngx_http_zkcredit_redis_dispatch(ngx_http_zkcredit_redis_t *rd,
    redisReply *reply);
static void ngx_http_zkcredit_redis_read_handler(ngx_event_t *ev);
static void ngx_http_zkcredit_redis_write_handler(ngx_event_t *ev);
static void ngx_http_zkcredit_redis_timeout(ngx_event_t *ev);
static void ngx_http_zkcredit_redis_retry(ngx_event_t *ev);
static void ngx_http_zkcredit_redis_flush_writes(ngx_http_zkcredit_redis_t *rd);
static void ngx_http_zkcredit_redis_write_done(void *data, redisReply *reply);
static void ngx_http_zkcredit_redis_session_reply(void *data,
    redisReply *reply);


/* one client per worker process, created in init_process */
static ngx_http_zkcredit_redis_t  *ngx_http_zkcredit_redis;


/* what a command's handler gets when the command never left this process */
static char  ngx_http_zkcredit_unsent_text[] = "not sent";

redisReply  ngx_http_zkcredit_redis_unsent = {
    REDIS_REPLY_ERROR, 0, sizeof(ngx_http_zkcredit_unsent_text) - 1,
    ngx_http_zkcredit_unsent_text, 0, NULL
};


ngx_int_t
ngx_http_zkcredit_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_zkcredit_main_conf_t *zmcf)
{
    ngx_http_zkcredit_redis_t  *rd;

    rd = static_cast<ngx_http_zkcredit_redis_t *>(
             ngx_pcalloc(cycle->pool, sizeof(ngx_http_zkcredit_redis_t)));
    if (rd == NULL) {
        return NGX_ERROR;
    }

    rd->conf = zmcf;
    rd->log = cycle->log;
    rd->backoff = NGX_HTTP_ZKCREDIT_BACKOFF_MIN;
    ngx_queue_init(&rd->pending);
    ngx_queue_init(&rd->writes);

    rd->retry.handler = ngx_http_zkcredit_redis_retry;
    rd->retry.data = rd;
    rd->retry.log = cycle->log;
    /* a worker that shuts down does not wait for a store that is away */
    rd->retry.cancelable = 1;

    ngx_http_zkcredit_redis = rd;

    return NGX_OK;
}


void
ngx_http_zkcredit_redis_exit_process(void)
{
    ngx_http_zkcredit_redis_t  *rd;

    rd = ngx_http_zkcredit_redis;
    if (rd == NULL) {
        return;
    }

    if (rd->nwrites > 0) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "zkcredit: %ui write(s) never reached redis \"%V\"; "
                      "vouchers among them are reissued to clients that "
                      "resend their credential after zkcredit_settle_timeout",
                      rd->nwrites, &rd->conf->redis_addr);
    }

    /* what the last handlers queue is not sent: the process ends */
    rd->exiting = 1;

    if (rd->ctx != NULL) {
        ngx_http_zkcredit_redis_reset(rd, NULL);
    }

    ngx_http_zkcredit_redis = NULL;
}


/*
 * Queues one command for a request. The handler runs exactly once, from
 * the event loop, with the reply, or with NULL on error, timeout or
 * disconnect, unless the operation is detached first. NULL means nothing
 * was queued: the store is down, backing off or stalled, or memory ran out.
 */
ngx_http_zkcredit_redis_op_t *
ngx_http_zkcredit_redis_send(ngx_http_zkcredit_redis_handler_pt handler,
    void *data, ngx_http_zkcredit_cmd_t *cmd)
{
    ngx_http_zkcredit_redis_t  *rd;

    rd = ngx_http_zkcredit_redis;

    if (rd == NULL || cmd->failed || rd->stalled) {
        return NULL;
    }

    if (rd->state == NGX_HTTP_ZKCREDIT_REDIS_IDLE
        && ngx_http_zkcredit_redis_connect(rd) != NGX_OK)
    {
        return NULL;
    }

    return ngx_http_zkcredit_redis_queue(rd, handler, data, cmd->argc,
                                         cmd->argv, cmd->lens);
}


static ngx_http_zkcredit_redis_op_t *
ngx_http_zkcredit_redis_queue(ngx_http_zkcredit_redis_t *rd,
    ngx_http_zkcredit_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *lens)
{
    ngx_http_zkcredit_redis_op_t  *op;

    op = static_cast<ngx_http_zkcredit_redis_op_t *>(
             ngx_calloc(sizeof(ngx_http_zkcredit_redis_op_t), rd->log));
    if (op == NULL) {
        return NULL;
    }

    if (redisAppendCommandArgv(rd->ctx, argc, argv, lens) != REDIS_OK) {
        ngx_free(op);
        return NULL;
    }

    op->handler = handler;
    op->data = data;
    op->sent = ngx_current_msec;
    op->timeout.handler = ngx_http_zkcredit_redis_timeout;
    op->timeout.data = op;
    op->timeout.log = rd->log;

    ngx_queue_insert_tail(&rd->pending, &op->queue);
    rd->unwritten++;
    ngx_add_timer(&op->timeout, rd->conf->redis_timeout);

    /* written at the end of this loop turn: commands queued together leave
     * in one write */
    if (rd->state == NGX_HTTP_ZKCREDIT_REDIS_READY && !rd->conn->write->posted) {
        ngx_post_event(rd->conn->write, &ngx_posted_events);
    }

    return op;
}


/*
 * A write no request waits for, such as a voucher or a refund: copied to
 * the heap and sent until the server answers it (a failure is logged).
 */
void
ngx_http_zkcredit_redis_write(ngx_http_zkcredit_cmd_t *cmd, const char *what)
{
    int                          i;
    size_t                       size;
    u_char                      *p;
    ngx_http_zkcredit_redis_t   *rd;
    ngx_http_zkcredit_write_t   *w;

    rd = ngx_http_zkcredit_redis;

    if (rd == NULL || cmd->failed || rd->nwrites >= NGX_HTTP_ZKCREDIT_WRITES_MAX) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "zkcredit: %s could not be queued for redis", what);
        return;
    }

    size = sizeof(ngx_http_zkcredit_write_t)
           + cmd->argc * (sizeof(char *) + sizeof(size_t));
    for (i = 0; i < cmd->argc; i++) {
        size += cmd->lens[i];
    }

    w = static_cast<ngx_http_zkcredit_write_t *>(ngx_alloc(size, ngx_cycle->log));
    if (w == NULL) {
        return;
    }

    w->what = what;
    w->argc = cmd->argc;
    w->argv = reinterpret_cast<const char **>(w + 1);
    w->lens = reinterpret_cast<size_t *>(w->argv + cmd->argc);
    p = reinterpret_cast<u_char *>(w->lens + cmd->argc);

    for (i = 0; i < cmd->argc; i++) {
        w->argv[i] = reinterpret_cast<const char *>(p);
        w->lens[i] = cmd->lens[i];
        p = ngx_cpymem(p, cmd->argv[i], cmd->lens[i]);
    }

    ngx_queue_insert_tail(&rd->writes, &w->queue);
    rd->nwrites++;

    ngx_http_zkcredit_redis_flush_writes(rd);
}


/* sends the waiting durable writes when the connection can take them */
static void
ngx_http_zkcredit_redis_flush_writes(ngx_http_zkcredit_redis_t *rd)
{
    ngx_queue_t                *q;
    ngx_http_zkcredit_write_t  *w;

    if (ngx_queue_empty(&rd->writes) || rd->stalled) {
        return;
    }

    if (rd->state == NGX_HTTP_ZKCREDIT_REDIS_IDLE
        && (ngx_current_msec < rd->retry_at
            || ngx_http_zkcredit_redis_connect(rd) != NGX_OK))
    {
        if (!rd->retry.timer_set) {
            ngx_add_timer(&rd->retry, rd->backoff);
        }
        return;
    }

    while (!ngx_queue_empty(&rd->writes)) {
        q = ngx_queue_head(&rd->writes);
        w = ngx_queue_data(q, ngx_http_zkcredit_write_t, queue);

        if (ngx_http_zkcredit_redis_queue(rd, ngx_http_zkcredit_redis_write_done,
                                          w, w->argc, w->argv, w->lens)
            == NULL)
        {
            if (!rd->retry.timer_set) {
                ngx_add_timer(&rd->retry, rd->backoff);
            }
            return;
        }

        ngx_queue_remove(q);
    }
}


static void
ngx_http_zkcredit_redis_write_done(void *data, redisReply *reply)
{
    ngx_http_zkcredit_redis_t  *rd;
    ngx_http_zkcredit_write_t  *w;

    w = static_cast<ngx_http_zkcredit_write_t *>(data);
    rd = ngx_http_zkcredit_redis;

    if (reply == &ngx_http_zkcredit_redis_unsent) {
        reply = NULL;
    }

    if (reply != NULL && reply->type != REDIS_REPLY_ERROR) {
        rd->nwrites--;
        ngx_free(w);
        return;
    }

    if (reply != NULL) {
        /* the server refused it: sending it again gets the same answer */
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "zkcredit: redis refused the %s: %*s", w->what,
                      static_cast<size_t>(reply->len), reply->str);
        rd->nwrites--;
        ngx_free(w);
        return;
    }

    ngx_queue_insert_head(&rd->writes, &w->queue);

    if (!rd->retry.timer_set) {
        ngx_add_timer(&rd->retry, rd->backoff);
    }
}


static void
ngx_http_zkcredit_redis_retry(ngx_event_t *ev)
{
    ngx_http_zkcredit_redis_flush_writes(
        static_cast<ngx_http_zkcredit_redis_t *>(ev->data));
}


void
ngx_http_zkcredit_cmd_init(ngx_http_zkcredit_cmd_t *cmd, ngx_http_request_t *r,
    const char *name)
{
    ngx_http_zkcredit_main_conf_t  *zmcf;

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_get_module_main_conf(r, ngx_http_zkcredit_module));

    cmd->pool = r->pool;
    cmd->prefix = &zmcf->redis_prefix;
    cmd->argc = 0;
    cmd->failed = 0;

    ngx_http_zkcredit_cmd_literal(cmd, name);
}


/* not copied: the data must stay put until the command is queued */
void
ngx_http_zkcredit_cmd_arg(ngx_http_zkcredit_cmd_t *cmd, const void *data,
    size_t len)
{
    if (data == NULL || cmd->argc == NGX_HTTP_ZKCREDIT_CMD_MAX_ARGS) {
        cmd->failed = 1;
        return;
    }

    cmd->argv[cmd->argc] = static_cast<const char *>(data);
    cmd->lens[cmd->argc] = len;
    cmd->argc++;
}


void
ngx_http_zkcredit_cmd_literal(ngx_http_zkcredit_cmd_t *cmd, const char *text)
{
    ngx_http_zkcredit_cmd_arg(cmd, text, ngx_strlen(text));
}


/* <prefix><kind><suffix>, e.g. "zkcredit:n:<nullifier hex>" */
void
ngx_http_zkcredit_cmd_key(ngx_http_zkcredit_cmd_t *cmd, const char *kind,
    const u_char *suffix, size_t suffix_len)
{
    u_char  *key, *p;
    size_t   kind_len;

    kind_len = ngx_strlen(kind);

    key = static_cast<u_char *>(ngx_pnalloc(cmd->pool,
              cmd->prefix->len + kind_len + suffix_len));
    if (key == NULL) {
        cmd->failed = 1;
        return;
    }

    p = ngx_cpymem(key, cmd->prefix->data, cmd->prefix->len);
    p = ngx_cpymem(p, kind, kind_len);

    if (suffix_len) {
        p = ngx_cpymem(p, suffix, suffix_len);
    }

    ngx_http_zkcredit_cmd_arg(cmd, key, p - key);
}


/* a field element as 64 lower-case hex digits */
void
ngx_http_zkcredit_cmd_field(ngx_http_zkcredit_cmd_t *cmd,
    const libverify::Fr &value)
{
    u_char  *hex;

    hex = static_cast<u_char *>(ngx_pnalloc(cmd->pool,
                                            NGX_HTTP_ZKCREDIT_HEX_LEN));
    if (hex != NULL) {
        ngx_http_zkcredit_field_hex(value, hex);
    }

    ngx_http_zkcredit_cmd_arg(cmd, hex, NGX_HTTP_ZKCREDIT_HEX_LEN);
}


void
ngx_http_zkcredit_cmd_time(ngx_http_zkcredit_cmd_t *cmd, time_t value)
{
    u_char  *text;

    text = static_cast<u_char *>(ngx_pnalloc(cmd->pool, NGX_TIME_T_LEN));
    if (text == NULL) {
        cmd->failed = 1;
        return;
    }

    ngx_http_zkcredit_cmd_arg(cmd, text, ngx_sprintf(text, "%T", value) - text);
}


/* the request went away: its reply, when it comes, is dropped */
void
ngx_http_zkcredit_redis_detach(ngx_http_zkcredit_redis_op_t *op)
{
    op->handler = NULL;
    op->data = NULL;
}


/*
 * Our scripts end every reply array with the tag the command carried (the
 * nullifier): a reply that answers another command means the connection
 * is out of step, and nothing it says can be trusted.
 */
ngx_int_t
ngx_http_zkcredit_reply_tagged(redisReply *reply, u_char *tag, size_t len)
{
    redisReply  *last;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        return NGX_ERROR;
    }

    last = reply->element[reply->elements - 1];

    if (last->type != REDIS_REPLY_STRING || last->len != len
        || ngx_memcmp(last->str, tag, len) != 0)
    {
        ngx_http_zkcredit_redis_reset(ngx_http_zkcredit_redis,
                                      "answered out of step");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_zkcredit_redis_connect(ngx_http_zkcredit_redis_t *rd)
{
    const char                     *argv[3];
    size_t                          lens[3];
    u_char                          db[NGX_INT_T_LEN];
    int                             argc;
    ngx_connection_t               *c;
    redisContext                   *ctx;
    ngx_http_zkcredit_main_conf_t  *zmcf;

    if (rd->exiting || ngx_current_msec < rd->retry_at) {
        return NGX_ERROR;
    }

    zmcf = rd->conf;

    if (zmcf->redis_unix) {
        ctx = redisConnectUnixNonBlock(
                  reinterpret_cast<char *>(zmcf->redis_host.data));

    } else {
        /* a numeric address, resolved at configuration time: no DNS here */
        ctx = redisConnectNonBlock(reinterpret_cast<char *>(zmcf->redis_host.data),
                                   static_cast<int>(zmcf->redis_port));
    }

    if (ctx == NULL || ctx->err) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "zkcredit: redis connect to \"%V\" failed: %s",
                      &zmcf->redis_addr, ctx ? ctx->errstr : "out of memory");
        if (ctx != NULL) {
            redisFree(ctx);
        }
        rd->retry_at = ngx_current_msec + rd->backoff;
        rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_ZKCREDIT_BACKOFF_MAX);
        return NGX_ERROR;
    }

    c = ngx_get_connection(ctx->fd, rd->log);
    if (c == NULL) {
        redisFree(ctx);
        return NGX_ERROR;
    }

    c->data = rd;
    c->read->handler = ngx_http_zkcredit_redis_read_handler;
    c->write->handler = ngx_http_zkcredit_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    rd->ctx = ctx;
    rd->conn = c;
    rd->state = NGX_HTTP_ZKCREDIT_REDIS_CONNECTING;

    /* the socket turning writable is how a non-blocking connect completes */
    if (ngx_handle_read_event(c->read, 0) != NGX_OK
        || ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ngx_http_zkcredit_redis_reset(rd, "could not be watched");
        return NGX_ERROR;
    }

    /* the session's settings go first, ahead of every command */
    if (zmcf->redis_password.len) {
        argc = 0;
        argv[argc] = "AUTH";
        lens[argc++] = 4;
        if (zmcf->redis_user.len) {
            argv[argc] = reinterpret_cast<char *>(zmcf->redis_user.data);
            lens[argc++] = zmcf->redis_user.len;
        }
        argv[argc] = reinterpret_cast<char *>(zmcf->redis_password.data);
        lens[argc++] = zmcf->redis_password.len;

        if (ngx_http_zkcredit_redis_queue(rd,
                ngx_http_zkcredit_redis_session_reply,
                const_cast<char *>("authentication"), argc, argv, lens)
            == NULL)
        {
            ngx_http_zkcredit_redis_reset(rd, "could not authenticate");
            return NGX_ERROR;
        }
    }

    if (zmcf->redis_database > 0) {
        argv[0] = "SELECT";
        lens[0] = 6;
        argv[1] = reinterpret_cast<char *>(db);
        lens[1] = ngx_sprintf(db, "%i", zmcf->redis_database) - db;

        if (ngx_http_zkcredit_redis_queue(rd,
                ngx_http_zkcredit_redis_session_reply,
                const_cast<char *>("database selection"), 2, argv, lens)
            == NULL)
        {
            ngx_http_zkcredit_redis_reset(rd, "could not select the database");
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_zkcredit_redis_session_reply(void *data, redisReply *reply)
{
    ngx_http_zkcredit_redis_t  *rd;

    rd = ngx_http_zkcredit_redis;

    if (reply != NULL && reply->type == REDIS_REPLY_STATUS) {
        return;
    }

    if (reply != NULL) {
        /* the server's words, never the password */
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "zkcredit: redis \"%V\" refused the %s: %*s",
                      &rd->conf->redis_addr, static_cast<const char *>(data),
                      static_cast<size_t>(reply->len), reply->str);
        ngx_http_zkcredit_redis_reset(rd, "refused the session");
    }
}


/*
 * Drops the connection; every queued operation's handler runs with NULL.
 * The next command reconnects once the backoff has passed.
 */
static void
ngx_http_zkcredit_redis_reset(ngx_http_zkcredit_redis_t *rd,
    const char *reason)
{
    ngx_uint_t         n, unsent;
    ngx_queue_t       *q;
    redisContext      *ctx;
    ngx_connection_t  *c;

    ctx = rd->ctx;
    c = rd->conn;

    if (ctx == NULL) {
        return;
    }

    rd->ctx = NULL;
    rd->conn = NULL;
    rd->state = NGX_HTTP_ZKCREDIT_REDIS_IDLE;
    rd->stalled = 0;

    if (reason != NULL) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "zkcredit: redis \"%V\" %s, reconnecting in %M ms",
                      &rd->conf->redis_addr, reason, rd->backoff);
        rd->retry_at = ngx_current_msec + rd->backoff;
        rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_ZKCREDIT_BACKOFF_MAX);
    }

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }
    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }
    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }
    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    /* hiredis closes the socket */
    redisFree(ctx);

    /* the last "unwritten" commands never left: they did not run */
    n = 0;
    for (q = ngx_queue_head(&rd->pending); q != ngx_queue_sentinel(&rd->pending);
         q = ngx_queue_next(q))
    {
        n++;
    }
    unsent = n - rd->unwritten;
    rd->unwritten = 0;

    for (n = 0; !ngx_queue_empty(&rd->pending); n++) {
        ngx_http_zkcredit_redis_dispatch(rd,
            n >= unsent ? &ngx_http_zkcredit_redis_unsent : NULL);
    }

    if (!ngx_queue_empty(&rd->writes) && !rd->retry.timer_set
        && !ngx_exiting)
    {
        ngx_add_timer(&rd->retry, rd->backoff);
    }
}


/*
 * A command not answered in time: its requester hears it now, but the
 * command keeps its place, so that later replies still match theirs.
 */
static void
ngx_http_zkcredit_redis_timeout(ngx_event_t *ev)
{
    ngx_queue_t                   *q;
    ngx_http_zkcredit_redis_t     *rd;
    ngx_http_zkcredit_redis_op_t  *op, *oldest;

    op = static_cast<ngx_http_zkcredit_redis_op_t *>(ev->data);
    rd = ngx_http_zkcredit_redis;

    rd->stalled = 1;

    if (op->handler != NULL) {
        op->handler(op->data, NULL);
        op->handler = NULL;
        op->data = NULL;
    }

    if (rd->ctx == NULL || ngx_queue_empty(&rd->pending)) {
        return;
    }

    q = ngx_queue_head(&rd->pending);
    oldest = ngx_queue_data(q, ngx_http_zkcredit_redis_op_t, queue);

    if (ngx_current_msec - oldest->sent
        >= NGX_HTTP_ZKCREDIT_DEAD_FACTOR * rd->conf->redis_timeout)
    {
        ngx_http_zkcredit_redis_reset(rd, "is not answering");

    } else if (!op->timeout.timer_set) {
        /* looked at again: the dead time is measured on the oldest */
        ngx_add_timer(&op->timeout, rd->conf->redis_timeout);
    }
}


/* the oldest queued command gets its reply (NULL: none will come) */
static void
ngx_http_zkcredit_redis_dispatch(ngx_http_zkcredit_redis_t *rd,
    redisReply *reply)
{
    ngx_queue_t                   *q;
    ngx_http_zkcredit_redis_op_t  *op;

    q = ngx_queue_head(&rd->pending);
    ngx_queue_remove(q);
    op = ngx_queue_data(q, ngx_http_zkcredit_redis_op_t, queue);

    if (op->timeout.timer_set) {
        ngx_del_timer(&op->timeout);
    }

    if (op->handler != NULL) {
        op->handler(op->data, reply);
    }

    ngx_free(op);
}


static void
ngx_http_zkcredit_redis_read_handler(ngx_event_t *ev)
{
    int                         pending;
    void                       *reply;
    redisContext               *ctx;
    ngx_connection_t           *c;
    ngx_http_zkcredit_redis_t  *rd;

    c = static_cast<ngx_connection_t *>(ev->data);
    rd = static_cast<ngx_http_zkcredit_redis_t *>(c->data);

    if (rd->ctx == NULL || rd->conn != c) {
        return;
    }

    /*
     * hiredis reads at most 16 KiB a call, and edge-triggered epoll reports
     * the rest never: read until the socket is drained or the context gone.
     */
    do {
        ctx = rd->ctx;

        if (redisBufferRead(ctx) != REDIS_OK) {
            ngx_http_zkcredit_redis_reset(rd, "connection lost");
            return;
        }

        for ( ;; ) {
            reply = NULL;

            if (redisGetReplyFromReader(ctx, &reply) != REDIS_OK) {
                ngx_http_zkcredit_redis_reset(rd, "sent a malformed reply");
                return;
            }

            if (reply == NULL) {
                break;
            }

            if (ngx_queue_empty(&rd->pending)) {
                freeReplyObject(reply);
                ngx_http_zkcredit_redis_reset(rd, "sent a reply nobody asked for");
                return;
            }

            rd->stalled = 0;
            ngx_http_zkcredit_redis_dispatch(rd, static_cast<redisReply *>(reply));
            freeReplyObject(reply);

            if (rd->ctx != ctx) {
                return;
            }
        }

    } while (ioctl(c->fd, FIONREAD, &pending) == 0 && pending > 0);

    if (!rd->stalled) {
        ngx_http_zkcredit_redis_flush_writes(rd);
    }
}


static void
ngx_http_zkcredit_redis_write_handler(ngx_event_t *ev)
{
    int                         done, err;
    socklen_t                   len;
    ngx_connection_t           *c;
    ngx_http_zkcredit_redis_t  *rd;

    c = static_cast<ngx_connection_t *>(ev->data);
    rd = static_cast<ngx_http_zkcredit_redis_t *>(c->data);

    if (rd->ctx == NULL) {
        return;
    }

    if (rd->state == NGX_HTTP_ZKCREDIT_REDIS_CONNECTING) {
        err = 0;
        len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
            err = ngx_socket_errno;
        }

        if (err) {
            ngx_log_error(NGX_LOG_ERR, rd->log, err,
                          "zkcredit: redis connect to \"%V\" failed",
                          &rd->conf->redis_addr);
            ngx_http_zkcredit_redis_reset(rd, "is unreachable");
            return;
        }

        rd->state = NGX_HTTP_ZKCREDIT_REDIS_READY;
        rd->backoff = NGX_HTTP_ZKCREDIT_BACKOFF_MIN;
    }

    /* hiredis writes its whole buffer in one call; what is left waits for
     * the socket to drain */
    done = 0;

    if (redisBufferWrite(rd->ctx, &done) != REDIS_OK) {
        ngx_http_zkcredit_redis_reset(rd, "connection lost while writing");
        return;
    }

    if (done) {
        rd->unwritten = 0;

    } else {
        c->write->ready = 0;

        if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
            ngx_http_zkcredit_redis_reset(rd, "could not be watched");
        }
    }
}
