/*
 * zkcredit: a per-worker asynchronous Redis client on nginx's event loop.
 *
 * hiredis parses replies and queues commands; nginx owns the socket events
 * and every timer (Debian's hiredis 0.14 has no timeouts in its async API).
 * An operation that outlives its request is detached, never freed under
 * hiredis; a stalled server is cut off and reconnected with backoff.
 */

#include "ngx_http_zkcredit_module.h"

#include <sys/ioctl.h>


#define NGX_HTTP_ZKCREDIT_BACKOFF_MIN  100
#define NGX_HTTP_ZKCREDIT_BACKOFF_MAX  5000


struct ngx_http_zkcredit_redis_op_s {
    ngx_http_zkcredit_redis_handler_pt   handler;
    void                                *data;
    ngx_event_t                          timeout;
};


typedef struct {
    redisAsyncContext                   *ac;
    ngx_connection_t                    *conn;
    ngx_http_zkcredit_main_conf_t       *conf;
    ngx_log_t                           *log;
    ngx_msec_t                           backoff;
    ngx_msec_t                           retry_at;
    ngx_uint_t                           connected;
} ngx_http_zkcredit_redis_t;


static ngx_int_t ngx_http_zkcredit_redis_connect(ngx_http_zkcredit_redis_t *rd);
static void ngx_http_zkcredit_redis_reset(ngx_http_zkcredit_redis_t *rd,
    const char *reason);
static void ngx_http_zkcredit_redis_read_handler(ngx_event_t *ev);
static void ngx_http_zkcredit_redis_write_handler(ngx_event_t *ev);
static void ngx_http_zkcredit_redis_add_read(void *privdata);
static void ngx_http_zkcredit_redis_del_read(void *privdata);
static void ngx_http_zkcredit_redis_add_write(void *privdata);
static void ngx_http_zkcredit_redis_del_write(void *privdata);
static void ngx_http_zkcredit_redis_cleanup(void *privdata);
static void ngx_http_zkcredit_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_zkcredit_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_zkcredit_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_zkcredit_redis_timeout(ngx_event_t *ev);


/* one client per worker process, created in init_process */
static ngx_http_zkcredit_redis_t  *ngx_http_zkcredit_redis;


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

    ngx_http_zkcredit_redis = rd;

    return NGX_OK;
}


void
ngx_http_zkcredit_redis_exit_process(void)
{
    ngx_http_zkcredit_redis_t  *rd;

    rd = ngx_http_zkcredit_redis;

    if (rd != NULL && rd->ac != NULL) {
        ngx_http_zkcredit_redis_reset(rd, NULL);
    }

    ngx_http_zkcredit_redis = NULL;
}


/*
 * Queues one command. The handler runs exactly once, from the event loop,
 * with the reply, or with NULL on error, timeout or disconnect, unless the
 * operation is detached first. NULL means nothing was sent: the store is
 * down and backing off, or memory ran out.
 */
ngx_http_zkcredit_redis_op_t *
ngx_http_zkcredit_redis_send(ngx_log_t *log,
    ngx_http_zkcredit_redis_handler_pt handler, void *data,
    ngx_http_zkcredit_cmd_t *cmd)
{
    ngx_http_zkcredit_redis_t     *rd;
    ngx_http_zkcredit_redis_op_t  *op;

    rd = ngx_http_zkcredit_redis;

    if (rd == NULL || cmd->failed) {
        return NULL;
    }

    if (rd->ac == NULL) {
        if (ngx_current_msec < rd->retry_at) {
            return NULL;
        }

        if (ngx_http_zkcredit_redis_connect(rd) != NGX_OK) {
            return NULL;
        }
    }

    op = static_cast<ngx_http_zkcredit_redis_op_t *>(
             ngx_calloc(sizeof(ngx_http_zkcredit_redis_op_t), log));
    if (op == NULL) {
        return NULL;
    }

    op->handler = handler;
    op->data = data;
    op->timeout.handler = ngx_http_zkcredit_redis_timeout;
    op->timeout.data = op;
    op->timeout.log = rd->log;

    if (redisAsyncCommandArgv(rd->ac, ngx_http_zkcredit_redis_reply, op,
                              cmd->argc, cmd->argv, cmd->lens)
        != REDIS_OK)
    {
        ngx_free(op);
        return NULL;
    }

    ngx_add_timer(&op->timeout, rd->conf->redis_timeout);

    return op;
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


/* not copied: the data must stay put until the command is sent */
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

    if (op->timeout.timer_set) {
        ngx_del_timer(&op->timeout);
    }
}


static ngx_int_t
ngx_http_zkcredit_redis_connect(ngx_http_zkcredit_redis_t *rd)
{
    ngx_connection_t               *c;
    redisAsyncContext              *ac;
    ngx_http_zkcredit_main_conf_t  *zmcf;

    zmcf = rd->conf;

    if (zmcf->redis_unix) {
        ac = redisAsyncConnectUnix(reinterpret_cast<char *>(zmcf->redis_host.data));

    } else {
        /* a numeric address, resolved at configuration time: no DNS here */
        ac = redisAsyncConnect(reinterpret_cast<char *>(zmcf->redis_host.data),
                               static_cast<int>(zmcf->redis_port));
    }

    if (ac == NULL || ac->err) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "zkcredit: redis connect to \"%V\" failed: %s",
                      &zmcf->redis_addr, ac ? ac->errstr : "out of memory");
        if (ac != NULL) {
            redisAsyncFree(ac);
        }
        rd->retry_at = ngx_current_msec + rd->backoff;
        rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_ZKCREDIT_BACKOFF_MAX);
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c->data = rd;
    c->read->handler = ngx_http_zkcredit_redis_read_handler;
    c->write->handler = ngx_http_zkcredit_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    ac->data = rd;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_zkcredit_redis_add_read;
    ac->ev.delRead = ngx_http_zkcredit_redis_del_read;
    ac->ev.addWrite = ngx_http_zkcredit_redis_add_write;
    ac->ev.delWrite = ngx_http_zkcredit_redis_del_write;
    ac->ev.cleanup = ngx_http_zkcredit_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_zkcredit_redis_connected);
    redisAsyncSetDisconnectCallback(ac, ngx_http_zkcredit_redis_disconnected);

    rd->ac = ac;
    rd->conn = c;
    rd->connected = 0;

    /* the socket turning writable is how a non-blocking connect completes */
    ngx_http_zkcredit_redis_add_write(c);

    return NGX_OK;
}


/*
 * Drops the connection; every pending operation's handler runs with NULL.
 * The next command reconnects once the backoff has passed.
 */
static void
ngx_http_zkcredit_redis_reset(ngx_http_zkcredit_redis_t *rd,
    const char *reason)
{
    redisAsyncContext  *ac;

    ac = rd->ac;
    rd->ac = NULL;

    if (reason != NULL) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "zkcredit: redis \"%V\" %s, reconnecting in %M ms",
                      &rd->conf->redis_addr, reason, rd->backoff);
        rd->retry_at = ngx_current_msec + rd->backoff;
        rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_ZKCREDIT_BACKOFF_MAX);
    }

    if (ac != NULL) {
        redisAsyncFree(ac);
    }
}


static void
ngx_http_zkcredit_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_zkcredit_redis_t  *rd;

    rd = static_cast<ngx_http_zkcredit_redis_t *>(ac->data);

    if (status != REDIS_OK) {
        /* hiredis frees the context right after this callback */
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "zkcredit: redis connect to \"%V\" failed: %s",
                      &rd->conf->redis_addr, ac->errstr);
        rd->ac = NULL;
        rd->retry_at = ngx_current_msec + rd->backoff;
        rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_ZKCREDIT_BACKOFF_MAX);
        return;
    }

    rd->connected = 1;
    rd->backoff = NGX_HTTP_ZKCREDIT_BACKOFF_MIN;
}


static void
ngx_http_zkcredit_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_zkcredit_redis_t  *rd;

    rd = static_cast<ngx_http_zkcredit_redis_t *>(ac->data);

    if (rd->ac == ac) {
        rd->ac = NULL;
    }

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "zkcredit: redis \"%V\" connection lost: %s",
                      &rd->conf->redis_addr, ac->errstr);
        rd->retry_at = ngx_current_msec + rd->backoff;
        rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_ZKCREDIT_BACKOFF_MAX);
    }
}


static void
ngx_http_zkcredit_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_zkcredit_redis_op_t  *op;

    op = static_cast<ngx_http_zkcredit_redis_op_t *>(privdata);

    if (op->timeout.timer_set) {
        ngx_del_timer(&op->timeout);
    }

    if (op->handler != NULL) {
        op->handler(op->data, static_cast<redisReply *>(reply));
    }

    ngx_free(op);
}


/*
 * A command not answered in time: its request gets the failure now, and
 * the connection, whose replies are in order, is no longer trusted.
 */
static void
ngx_http_zkcredit_redis_timeout(ngx_event_t *ev)
{
    ngx_http_zkcredit_redis_op_t  *op;

    op = static_cast<ngx_http_zkcredit_redis_op_t *>(ev->data);

    if (op->handler != NULL) {
        op->handler(op->data, NULL);
        op->handler = NULL;
        op->data = NULL;
    }

    ngx_http_zkcredit_redis_reset(ngx_http_zkcredit_redis, "timed out");
}


static void
ngx_http_zkcredit_redis_read_handler(ngx_event_t *ev)
{
    int                         pending;
    ngx_socket_t                fd;
    ngx_connection_t           *c;
    redisAsyncContext          *ac;
    ngx_http_zkcredit_redis_t  *rd;

    c = static_cast<ngx_connection_t *>(ev->data);
    rd = static_cast<ngx_http_zkcredit_redis_t *>(c->data);
    ac = rd->ac;
    fd = c->fd;

    if (ac == NULL) {
        return;
    }

    /*
     * hiredis reads at most 16 KiB a call, and edge-triggered epoll reports
     * the rest never: read until the socket is drained or the context gone.
     */
    do {
        redisAsyncHandleRead(ac);

        if (rd->ac != ac) {
            return;
        }

    } while (ioctl(fd, FIONREAD, &pending) == 0 && pending > 0);
}


static void
ngx_http_zkcredit_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_zkcredit_redis_t  *rd;

    c = static_cast<ngx_connection_t *>(ev->data);
    rd = static_cast<ngx_http_zkcredit_redis_t *>(c->data);

    if (rd->ac != NULL) {
        redisAsyncHandleWrite(rd->ac);
    }
}


static ngx_uint_t
ngx_http_zkcredit_redis_event_flags(void)
{
    if (ngx_event_flags & NGX_USE_CLEAR_EVENT) {
        return NGX_CLEAR_EVENT;
    }

    return NGX_LEVEL_EVENT;
}


static void
ngx_http_zkcredit_redis_add_read(void *privdata)
{
    ngx_connection_t  *c = static_cast<ngx_connection_t *>(privdata);

    if (!c->read->active) {
        (void) ngx_add_event(c->read, NGX_READ_EVENT,
                             ngx_http_zkcredit_redis_event_flags());
    }
}


static void
ngx_http_zkcredit_redis_del_read(void *privdata)
{
    ngx_connection_t  *c = static_cast<ngx_connection_t *>(privdata);

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_zkcredit_redis_add_write(void *privdata)
{
    ngx_connection_t  *c = static_cast<ngx_connection_t *>(privdata);

    if (!c->write->active) {
        (void) ngx_add_event(c->write, NGX_WRITE_EVENT,
                             ngx_http_zkcredit_redis_event_flags());
    }
}


static void
ngx_http_zkcredit_redis_del_write(void *privdata)
{
    ngx_connection_t  *c = static_cast<ngx_connection_t *>(privdata);

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis closes the socket itself right after this */
static void
ngx_http_zkcredit_redis_cleanup(void *privdata)
{
    ngx_connection_t           *c;
    ngx_http_zkcredit_redis_t  *rd;

    c = static_cast<ngx_connection_t *>(privdata);
    rd = static_cast<ngx_http_zkcredit_redis_t *>(c->data);

    ngx_http_zkcredit_redis_del_read(c);
    ngx_http_zkcredit_redis_del_write(c);

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (rd->conn == c) {
        rd->conn = NULL;
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
}
