/*
 * zkcredit: anonymous prepaid API credits verified inside nginx.
 *
 * Shared declarations of the module's translation units. The glue is C++
 * compiled in nginx's C style; nginx's headers carry no extern "C" guards.
 * Everything that needs no nginx lives in libverify.
 */

#ifndef NGX_HTTP_ZKCREDIT_MODULE_H
#define NGX_HTTP_ZKCREDIT_MODULE_H

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_thread_pool.h>
#include <hiredis/async.h>
}

#include "libverify/field_helpers.hpp"
#include "libverify/poseidon.hpp"
#include "libverify/protocol.hpp"

#if !(NGX_THREADS)
#error "zkcredit needs nginx built --with-threads (Debian's is)"
#endif


#define NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED  402

/* credit amounts are never zero where configured, so zero means "unset" */
#define NGX_HTTP_ZKCREDIT_UNSET_AMOUNT      0

#define NGX_UINT64_LEN                      (sizeof("18446744073709551615") - 1)

/* a field element as 64 lower-case hex digits, the Redis spelling */
#define NGX_HTTP_ZKCREDIT_HEX_LEN           64


typedef enum {
    NGX_HTTP_ZKCREDIT_OFF = 0,
    NGX_HTTP_ZKCREDIT_ON,
    NGX_HTTP_ZKCREDIT_SHADOW
} ngx_http_zkcredit_mode_e;


/* what happened to a request; also $zkcredit_status and the metrics labels */
typedef enum {
    NGX_HTTP_ZKCREDIT_ACCEPTED = 0,
    NGX_HTTP_ZKCREDIT_MISSING,
    NGX_HTTP_ZKCREDIT_MALFORMED,
    NGX_HTTP_ZKCREDIT_UNKNOWN_KEY,
    NGX_HTTP_ZKCREDIT_INVALID_PROOF,
    NGX_HTTP_ZKCREDIT_UNKNOWN_ROOT,
    NGX_HTTP_ZKCREDIT_REPLAY,
    NGX_HTTP_ZKCREDIT_DOUBLE_SPEND,
    NGX_HTTP_ZKCREDIT_STORE_ERROR,
    NGX_HTTP_ZKCREDIT_INTERNAL_ERROR,
    NGX_HTTP_ZKCREDIT_OUTCOMES
} ngx_http_zkcredit_outcome_e;


typedef enum {
    NGX_HTTP_ZKCREDIT_PROBLEM_REQUIRED = 0,
    NGX_HTTP_ZKCREDIT_PROBLEM_INVALID,
    NGX_HTTP_ZKCREDIT_PROBLEM_SPENT,
    NGX_HTTP_ZKCREDIT_PROBLEM_UNAVAILABLE
} ngx_http_zkcredit_problem_e;


#define NGX_HTTP_ZKCREDIT_VERIFY_BUCKETS    8

/* no verification takes this long; past it something is badly wrong */
#define NGX_HTTP_ZKCREDIT_VERIFY_GUARD      60000


/* counters shared by all workers; no per-user label exists */
typedef struct {
    ngx_atomic_t                       outcomes[NGX_HTTP_ZKCREDIT_OUTCOMES];
    ngx_atomic_t                       shadow_passed;
    ngx_atomic_t                       refunds;
    ngx_atomic_t                       policy_refusals;
    ngx_atomic_t                       credits_charged;
    ngx_atomic_t                       verify_count;
    ngx_atomic_t                       verify_usec;
    ngx_atomic_t                       verify_le[NGX_HTTP_ZKCREDIT_VERIFY_BUCKETS];
} ngx_http_zkcredit_counters_t;


typedef struct {
    ngx_str_t                          redis_addr;
    ngx_str_t                          redis_host;   /* NUL-terminated */
    ngx_uint_t                         redis_port;
    ngx_flag_t                         redis_unix;
    ngx_msec_t                         redis_timeout;
    ngx_str_t                          redis_prefix;
    ngx_shm_zone_t                    *shm_zone;
    ngx_http_zkcredit_counters_t      *counters;
    ngx_uint_t                         enabled;      /* some location gates */
} ngx_http_zkcredit_main_conf_t;


/*
 * A refund signing key, expanded once at configuration time so that a
 * voucher costs one signature; the secret never leaves this object.
 */
typedef struct ngx_http_zkcredit_signer_s {
    explicit ngx_http_zkcredit_signer_s(const libverify::EddsaPrivateKey &secret)
        : key(secret) {}

    libverify::EddsaSigningKey         key;
    libverify::Fr                      key_hash;
    u_char                             packed[NGX_HTTP_ZKCREDIT_HEX_LEN];
} ngx_http_zkcredit_signer_t;


typedef struct {
    ngx_uint_t                         mode;
    ngx_str_t                          scope_text;
    uint64_t                           c_max;
    libverify::Deployment             *deployment;
    libverify::VerifyingKey           *vk;
    ngx_http_zkcredit_signer_t        *signer;
    ngx_array_t                       *accepted_keys;  /* of libverify::Fr */
    ngx_http_complex_value_t          *charge;
    ngx_str_t                          header_name;
    ngx_str_t                          refund_header;
    ngx_str_t                          policy_header;
    ngx_str_t                          realm;
    time_t                             root_window;
    ngx_uint_t                         log_level;
    ngx_thread_pool_t                 *thread_pool;
} ngx_http_zkcredit_loc_conf_t;


typedef struct ngx_http_zkcredit_redis_op_s  ngx_http_zkcredit_redis_op_t;

typedef void (*ngx_http_zkcredit_redis_handler_pt)(void *data,
    redisReply *reply);


#define NGX_HTTP_ZKCREDIT_CMD_MAX_ARGS  19

/*
 * One Redis command being built. Copied arguments live in the request
 * pool; hiredis formats the command when it is sent, so the others need
 * only last until then. A failed allocation or too many arguments marks
 * the command failed, and a failed command is never sent.
 */
typedef struct {
    ngx_pool_t                        *pool;
    ngx_str_t                         *prefix;
    int                                argc;
    ngx_uint_t                         failed;
    const char                        *argv[NGX_HTTP_ZKCREDIT_CMD_MAX_ARGS];
    size_t                             lens[NGX_HTTP_ZKCREDIT_CMD_MAX_ARGS];
} ngx_http_zkcredit_cmd_t;


/* the verification work handed to a thread; it touches no nginx state */
typedef struct {
    const libverify::Deployment       *deployment;
    ngx_array_t                       *accepted_keys;
    ngx_str_t                          credential_text;
    ngx_str_t                          method;
    ngx_str_t                          target;
    ngx_chain_t                       *body;

    libverify::Status                  status;
    ngx_http_zkcredit_outcome_e        outcome;
    libverify::Credential              credential;
    libverify::Fr                      x;
    uint64_t                           verify_usec;
    ngx_err_t                          read_errno;
} ngx_http_zkcredit_job_t;


typedef enum {
    NGX_HTTP_ZKCREDIT_STATE_START = 0,
    NGX_HTTP_ZKCREDIT_STATE_BODY,
    NGX_HTTP_ZKCREDIT_STATE_VERIFY,
    NGX_HTTP_ZKCREDIT_STATE_SPEND,
    NGX_HTTP_ZKCREDIT_STATE_DONE
} ngx_http_zkcredit_state_e;


typedef struct {
    ngx_http_request_t                *request;
    ngx_http_zkcredit_state_e          state;
    ngx_http_zkcredit_outcome_e        outcome;
    ngx_int_t                          rc;
    ngx_event_t                        wake;
    ngx_event_t                        guard;
    ngx_http_zkcredit_redis_op_t      *op;
    ngx_http_zkcredit_job_t           *job;
    u_char                             nullifier_hex[NGX_HTTP_ZKCREDIT_HEX_LEN];
    unsigned                           counted:1;
    unsigned                           spent:1;
    unsigned                           refunded:1;
    unsigned                           shadow_pass:1;
} ngx_http_zkcredit_ctx_t;


extern "C" ngx_module_t  ngx_http_zkcredit_module;


/* ngx_http_zkcredit_module.cpp */
ngx_int_t ngx_http_zkcredit_parse_amount(ngx_str_t *text, uint64_t *amount);
void ngx_http_zkcredit_count(ngx_http_request_t *r,
    ngx_http_zkcredit_outcome_e outcome);
ngx_http_zkcredit_counters_t *ngx_http_zkcredit_counters(
    ngx_http_request_t *r);
void ngx_http_zkcredit_field_hex(const libverify::Fr &value, u_char *out);
ngx_int_t ngx_http_zkcredit_unhex(const u_char *text, size_t len, u_char *out,
    size_t n);
ngx_table_elt_t *ngx_http_zkcredit_find_header(ngx_list_t *headers,
    ngx_str_t *name, ngx_uint_t *count);
void ngx_http_zkcredit_resume(ngx_http_request_t *r);
void ngx_http_zkcredit_cancel(ngx_http_zkcredit_redis_op_t **op,
    ngx_event_t *wake);
void ngx_http_zkcredit_redis_write(ngx_http_zkcredit_cmd_t *cmd,
    const char *what);

/* ngx_http_zkcredit_handler.cpp */
ngx_int_t ngx_http_zkcredit_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_zkcredit_send_problem(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_problem_e problem);

/* ngx_http_zkcredit_filter.cpp */
ngx_int_t ngx_http_zkcredit_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_zkcredit_refunds_handler(ngx_http_request_t *r);

/* ngx_http_zkcredit_metrics.cpp */
ngx_int_t ngx_http_zkcredit_metrics_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_zkcredit_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* ngx_http_zkcredit_redis.cpp */
ngx_int_t ngx_http_zkcredit_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_zkcredit_main_conf_t *zmcf);
void ngx_http_zkcredit_redis_exit_process(void);
ngx_http_zkcredit_redis_op_t *ngx_http_zkcredit_redis_send(ngx_log_t *log,
    ngx_http_zkcredit_redis_handler_pt handler, void *data,
    ngx_http_zkcredit_cmd_t *cmd);
void ngx_http_zkcredit_cmd_init(ngx_http_zkcredit_cmd_t *cmd,
    ngx_http_request_t *r, const char *name);
void ngx_http_zkcredit_cmd_arg(ngx_http_zkcredit_cmd_t *cmd, const void *data,
    size_t len);
void ngx_http_zkcredit_cmd_literal(ngx_http_zkcredit_cmd_t *cmd,
    const char *text);
void ngx_http_zkcredit_cmd_key(ngx_http_zkcredit_cmd_t *cmd, const char *kind,
    const u_char *suffix, size_t suffix_len);
void ngx_http_zkcredit_cmd_field(ngx_http_zkcredit_cmd_t *cmd,
    const libverify::Fr &value);
void ngx_http_zkcredit_cmd_time(ngx_http_zkcredit_cmd_t *cmd, time_t value);
void ngx_http_zkcredit_redis_detach(ngx_http_zkcredit_redis_op_t *op);


#endif /* NGX_HTTP_ZKCREDIT_MODULE_H */
