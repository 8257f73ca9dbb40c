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
#include <hiredis/hiredis.h>
}

#include "libverify/field_helpers.hpp"
#include "libverify/poseidon.hpp"
#include "libverify/protocol.hpp"
#include "zkchain/policy_receipt.hpp"

#if !(NGX_THREADS)
#error "zkcredit needs nginx built --with-threads (Debian's is)"
#endif


#define NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED  402

/* credit amounts are never zero where configured, so zero means "unset" */
#define NGX_HTTP_ZKCREDIT_UNSET_AMOUNT      0

#define NGX_UINT64_LEN                      (sizeof("18446744073709551615") - 1)

/* a field element as 64 lower-case hex digits, the Redis spelling */
#define NGX_HTTP_ZKCREDIT_HEX_LEN           64

/* a spend attempt's random name, as hex */
#define NGX_HTTP_ZKCREDIT_ATTEMPT_BYTES     16
#define NGX_HTTP_ZKCREDIT_ATTEMPT_HEX_LEN   (2 * NGX_HTTP_ZKCREDIT_ATTEMPT_BYTES)


typedef enum {
    NGX_HTTP_ZKCREDIT_OFF = 0,
    NGX_HTTP_ZKCREDIT_ON,
    NGX_HTTP_ZKCREDIT_SHADOW
} ngx_http_zkcredit_mode_e;


/* where a served request's charge comes from */
typedef enum {
    NGX_HTTP_ZKCREDIT_METER_CHARGE = 0,   /* zkcredit_charge */
    NGX_HTTP_ZKCREDIT_METER_OPENAI,       /* the response's usage object */
    NGX_HTTP_ZKCREDIT_METER_JSONRPC       /* the request's methods */
} ngx_http_zkcredit_meter_e;


/* credit units per million tokens, for one model ("*": any other) */
typedef struct {
    ngx_str_t                          model;
    uint64_t                           prompt;
    uint64_t                           completion;
    uint64_t                           cached;
    uint64_t                           reasoning;
} ngx_http_zkcredit_token_price_t;


typedef struct {
    ngx_str_t                          method;
    uint64_t                           price;
} ngx_http_zkcredit_rpc_price_t;


/* the OpenAI usage object, as far as a price needs it */
typedef struct {
    uint64_t                           prompt;
    uint64_t                           completion;
    uint64_t                           cached;
    uint64_t                           reasoning;
    u_char                             model[64];
    size_t                             model_len;
    unsigned                           found:1;
} ngx_http_zkcredit_usage_t;


/* why a metered response is charged C_max; also the metric's label */
typedef enum {
    NGX_HTTP_ZKCREDIT_FALLBACK_NO_USAGE = 0,
    NGX_HTTP_ZKCREDIT_FALLBACK_UNPARSEABLE,
    NGX_HTTP_ZKCREDIT_FALLBACK_TOO_LARGE,
    NGX_HTTP_ZKCREDIT_FALLBACK_ENCODED,
    NGX_HTTP_ZKCREDIT_FALLBACK_NO_PRICE,
    NGX_HTTP_ZKCREDIT_FALLBACK_ABANDONED,
    NGX_HTTP_ZKCREDIT_FALLBACKS
} ngx_http_zkcredit_fallback_e;


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
    NGX_HTTP_ZKCREDIT_CLIENT_GONE,
    NGX_HTTP_ZKCREDIT_RPC_MALFORMED,
    NGX_HTTP_ZKCREDIT_OVERLOADED,
    NGX_HTTP_ZKCREDIT_STORE_ERROR,
    NGX_HTTP_ZKCREDIT_OUTCOME_UNKNOWN,
    NGX_HTTP_ZKCREDIT_INTERNAL_ERROR,
    NGX_HTTP_ZKCREDIT_OUTCOMES
} ngx_http_zkcredit_outcome_e;


typedef enum {
    NGX_HTTP_ZKCREDIT_PROBLEM_REQUIRED = 0,
    NGX_HTTP_ZKCREDIT_PROBLEM_INVALID,
    NGX_HTTP_ZKCREDIT_PROBLEM_ROOT,
    NGX_HTTP_ZKCREDIT_PROBLEM_RPC,
    NGX_HTTP_ZKCREDIT_PROBLEM_SPENT,
    NGX_HTTP_ZKCREDIT_PROBLEM_OVERLOADED,
    NGX_HTTP_ZKCREDIT_PROBLEM_UNAVAILABLE,
    NGX_HTTP_ZKCREDIT_PROBLEM_UNKNOWN,
    NGX_HTTP_ZKCREDIT_PROBLEM_NO_VOUCHER,
    NGX_HTTP_ZKCREDIT_PROBLEM_NOT_ALLOWED
} ngx_http_zkcredit_problem_e;


#define NGX_HTTP_ZKCREDIT_VERIFY_BUCKETS    8

/* no verification takes this long; past it something is badly wrong */
#define NGX_HTTP_ZKCREDIT_VERIFY_GUARD      60000

/* bumped whenever the counters' layout changes: a reload never adopts a
 * block written by another layout */
#define NGX_HTTP_ZKCREDIT_COUNTERS_LAYOUT   4

/* the most proofs one thread-pool task verifies together */
#define NGX_HTTP_ZKCREDIT_BATCH_MAX         64


/* counters shared by all workers; no per-user label exists */
typedef struct {
    ngx_uint_t                         layout;
    size_t                             size;
    ngx_atomic_t                       outcomes[NGX_HTTP_ZKCREDIT_OUTCOMES];
    ngx_atomic_t                       shadow_passed;
    ngx_atomic_t                       refunds;
    ngx_atomic_t                       unserved_refunds;
    ngx_atomic_t                       policy_refusals;
    ngx_atomic_t                       credits_charged;
    ngx_atomic_t                       metered;
    ngx_atomic_t                       meter_fallbacks[NGX_HTTP_ZKCREDIT_FALLBACKS];
    ngx_atomic_t                       verify_count;
    ngx_atomic_t                       verify_usec;
    ngx_atomic_t                       verify_le[NGX_HTTP_ZKCREDIT_VERIFY_BUCKETS];
    ngx_atomic_t                       verify_tasks;      /* thread-pool tasks */
    ngx_atomic_t                       verify_batched;    /* proofs in tasks of 2 or more */
    ngx_atomic_t                       verify_batch_failures;
} ngx_http_zkcredit_counters_t;


/*
 * A refund signing key, expanded once at configuration time so that a
 * voucher costs one signature; the secret never leaves this object, whose
 * memory is locked and kept out of core dumps.
 */
typedef struct ngx_http_zkcredit_signer_s {
    explicit ngx_http_zkcredit_signer_s(const libverify::EddsaPrivateKey &secret)
        : key(secret) {}

    libverify::EddsaSigningKey         key;
    libverify::Fr                      key_hash;
    u_char                             packed[NGX_HTTP_ZKCREDIT_HEX_LEN];
} ngx_http_zkcredit_signer_t;


/*
 * One deployment: everything a credential's proof and its tickets depend
 * on. Every location that names a scope shares one of these; nginx -t
 * refuses two locations that would give one scope two meanings.
 */
typedef struct {
    ngx_str_t                          scope_text;
    uint64_t                           c_max;
    libverify::Deployment              verify;
    u_char                             vk_digest[32];
    ngx_http_zkcredit_signer_t        *signer;
    ngx_array_t                       *keys;           /* of libverify::Fr */
    time_t                             root_window;
    time_t                             settle_timeout;
    ngx_str_t                          leaves_url;
    ngx_str_t                          refunds_url;
    ngx_str_t                          deposit_contract;  /* eip155:<chain>:<address> */
    zkchain::Signer                   *receipt_key;       /* NULL: no receipts */
    zkchain::ReceiptDomain             receipt_domain;    /* the deposit contract */
    ngx_str_t                          receipt_signer;    /* EIP-55 address */
    ngx_str_t                          header_name;
    ngx_str_t                          refund_header;
    u_char                            *file;
    ngx_uint_t                         line;
} ngx_http_zkcredit_deployment_t;


typedef struct {
    ngx_str_t                          redis_addr;
    ngx_str_t                          redis_host;   /* NUL-terminated */
    ngx_uint_t                         redis_port;
    ngx_flag_t                         redis_unix;
    ngx_msec_t                         redis_timeout;
    ngx_str_t                          redis_prefix;
    ngx_str_t                          redis_user;
    ngx_str_t                          redis_password;
    ngx_int_t                          redis_database;
    ngx_uint_t                         verify_limit;
    ngx_uint_t                         verify_queue;
    ngx_uint_t                         verify_batch;
    ngx_shm_zone_t                    *shm_zone;
    ngx_http_zkcredit_counters_t      *counters;
    ngx_array_t                        deployments;  /* of pointers */
    ngx_str_t                          discovery_url;
    ngx_uint_t                         enabled;      /* some location gates */
} ngx_http_zkcredit_main_conf_t;


typedef struct {
    ngx_uint_t                         mode;
    ngx_str_t                          scope_text;
    uint64_t                           c_max;
    libverify::VerifyingKey           *vk;
    u_char                             vk_digest[32];
    ngx_http_zkcredit_signer_t        *signer;
    ngx_array_t                       *accept_keys;    /* of libverify::Fr */
    ngx_http_complex_value_t          *charge;
    ngx_str_t                          header_name;
    ngx_str_t                          refund_header;
    ngx_str_t                          policy_header;
    ngx_str_t                          realm;
    ngx_str_t                          leaves_url;
    ngx_str_t                          refunds_url;
    ngx_str_t                          deposit_contract;
    zkchain::Signer                   *receipt_key;
    time_t                             root_window;
    time_t                             settle_timeout;
    ngx_uint_t                         log_level;
    ngx_thread_pool_t                 *thread_pool;
    ngx_uint_t                         meter;
    ngx_array_t                       *token_prices;   /* token_price_t */
    ngx_array_t                       *rpc_prices;     /* rpc_price_t */
    uint64_t                           rpc_default;
    ngx_uint_t                         rpc_refuse_malformed;
    size_t                             meter_buffer;
    ngx_str_t                          refund_event;
    u_char                            *mode_file;
    ngx_uint_t                         mode_line;
    ngx_http_zkcredit_deployment_t    *deployment;
} ngx_http_zkcredit_loc_conf_t;


typedef struct ngx_http_zkcredit_redis_op_s  ngx_http_zkcredit_redis_op_t;

typedef void (*ngx_http_zkcredit_redis_handler_pt)(void *data,
    redisReply *reply);


#define NGX_HTTP_ZKCREDIT_CMD_MAX_ARGS  24

/*
 * One Redis command being built. Copied arguments live in the request
 * pool; hiredis formats the command into its output buffer when it is
 * queued, so the others need only last until then. A failed allocation or
 * too many arguments marks the command failed, and a failed command is
 * never sent.
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
    ngx_array_t                       *keys;
    ngx_str_t                          credential_text;
    ngx_str_t                          method;
    ngx_str_t                          target;
    ngx_chain_t                       *body;
    ngx_http_zkcredit_loc_conf_t      *rpc;          /* JSON-RPC metering */

    uint64_t                           rpc_charge;
    ngx_uint_t                         rpc_malformed;

    libverify::Status                  status;
    ngx_http_zkcredit_outcome_e        outcome;
    libverify::Credential              credential;
    libverify::Fr                      x;
    uint64_t                           verify_usec;
    ngx_err_t                          read_errno;
} ngx_http_zkcredit_job_t;


/*
 * The gate's states. Only the phase handler moves a request on from one to
 * the next or answers it; the asynchronous steps (body read, thread, Redis)
 * record what they found and run the phases again.
 */
typedef enum {
    NGX_HTTP_ZKCREDIT_STATE_START = 0,
    NGX_HTTP_ZKCREDIT_STATE_BODY,        /* waiting for the request body */
    NGX_HTTP_ZKCREDIT_STATE_VERIFY,      /* body read: ready to verify */
    NGX_HTTP_ZKCREDIT_STATE_QUEUED,      /* waiting for a verification slot */
    NGX_HTTP_ZKCREDIT_STATE_VERIFYING,   /* a thread checks the proof */
    NGX_HTTP_ZKCREDIT_STATE_VERIFIED,    /* proof good: ready to spend */
    NGX_HTTP_ZKCREDIT_STATE_SPEND,       /* Redis spends the ticket */
    NGX_HTTP_ZKCREDIT_STATE_DONE,        /* outcome known */
    NGX_HTTP_ZKCREDIT_STATE_PASS         /* nginx answers without the gate */
} ngx_http_zkcredit_state_e;


/* what the body filter does with a metered response */
typedef enum {
    NGX_HTTP_ZKCREDIT_BODY_PASS = 0,
    NGX_HTTP_ZKCREDIT_BODY_HOLD,     /* JSON: held until its usage is read */
    NGX_HTTP_ZKCREDIT_BODY_STREAM    /* SSE: read line by line, passed on */
} ngx_http_zkcredit_body_e;


typedef struct {
    ngx_http_request_t                *request;
    ngx_http_zkcredit_deployment_t    *deployment;
    ngx_http_zkcredit_loc_conf_t      *conf;         /* the gating location */
    ngx_http_zkcredit_state_e          state;
    ngx_http_zkcredit_outcome_e        outcome;
    ngx_event_t                        wake;
    ngx_event_t                        guard;
    ngx_queue_t                        waiting;      /* for a thread slot */
    ngx_http_zkcredit_redis_op_t      *op;
    ngx_http_zkcredit_job_t           *job;
    ngx_msec_t                         spend_sent;
    ngx_str_t                          voucher;      /* for a 409 */
    u_char                             nullifier_hex[NGX_HTTP_ZKCREDIT_HEX_LEN];
    u_char                             attempt_hex[NGX_HTTP_ZKCREDIT_ATTEMPT_HEX_LEN];

    ngx_http_zkcredit_body_e           body;
    ngx_http_zkcredit_usage_t          usage;
    u_char                            *held;         /* HOLD: the body */
    size_t                             held_len;
    size_t                             held_size;
    u_char                            *line;         /* STREAM: a partial line */
    size_t                             line_len;
    ngx_chain_t                       *free;
    ngx_chain_t                       *busy;
    unsigned                           line_skipping:1;
    unsigned                           stream_done:1;
    unsigned                           free_of_charge:1;
    unsigned                           counted:1;
    unsigned                           spent:1;       /* this request spent it */
    unsigned                           refunded:1;    /* its voucher is issued */
    unsigned                           gone:1;        /* request terminated */
    unsigned                           shadow_pass:1;
    unsigned                           in_thread:1;
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
ngx_uint_t ngx_http_zkcredit_hide_headers(ngx_list_t *headers,
    ngx_str_t *name);
ngx_table_elt_t *ngx_http_zkcredit_push_header(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *value);
ngx_int_t ngx_http_zkcredit_send_body(ngx_http_request_t *r,
    ngx_uint_t status, const char *content_type, u_char *start, u_char *end);
ngx_uint_t ngx_http_zkcredit_plain_text(ngx_str_t *value, u_char lowest);
void ngx_http_zkcredit_resume(ngx_http_request_t *r);
void ngx_http_zkcredit_cancel(ngx_http_zkcredit_redis_op_t **op,
    ngx_event_t *wake);

/* ngx_http_zkcredit_handler.cpp */
ngx_int_t ngx_http_zkcredit_gate_handler(ngx_http_request_t *r);
ngx_http_zkcredit_ctx_t *ngx_http_zkcredit_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_zkcredit_send_problem(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_problem_e problem,
    ngx_str_t *voucher);

/* ngx_http_zkcredit_filter.cpp */
ngx_int_t ngx_http_zkcredit_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_zkcredit_refunds_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_zkcredit_sign_voucher(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, uint64_t charge, ngx_str_t *voucher);
void ngx_http_zkcredit_settle(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, uint64_t charge, ngx_uint_t policy,
    ngx_str_t *voucher);
ngx_int_t ngx_http_zkcredit_refuse_by_policy(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx, ngx_str_t *reason, ngx_str_t *voucher);
void ngx_http_zkcredit_mark_serving(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx);
ngx_int_t ngx_http_zkcredit_send_held_header(ngx_http_request_t *r);
void ngx_http_zkcredit_refund_unserved(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx);
void ngx_http_zkcredit_cmd_refund_script(ngx_http_zkcredit_cmd_t *cmd,
    ngx_http_zkcredit_ctx_t *ctx, ngx_str_t *voucher);

/* ngx_http_zkcredit_meter.cpp */
ngx_int_t ngx_http_zkcredit_meter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_zkcredit_meter_header(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx);
void ngx_http_zkcredit_meter_abandoned(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx);
ngx_int_t ngx_http_zkcredit_rpc_charge(ngx_http_zkcredit_loc_conf_t *lcf,
    const u_char *body, size_t len, uint64_t *charge);
char *ngx_http_zkcredit_token_price(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_zkcredit_rpc_price(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_zkcredit_discovery.cpp */
ngx_int_t ngx_http_zkcredit_discovery_handler(ngx_http_request_t *r);

/* ngx_http_zkcredit_metrics.cpp */
ngx_int_t ngx_http_zkcredit_metrics_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_zkcredit_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* ngx_http_zkcredit_redis.cpp */
ngx_int_t ngx_http_zkcredit_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_zkcredit_main_conf_t *zmcf);
void ngx_http_zkcredit_redis_exit_process(void);
ngx_http_zkcredit_redis_op_t *ngx_http_zkcredit_redis_send(
    ngx_http_zkcredit_redis_handler_pt handler, void *data,
    ngx_http_zkcredit_cmd_t *cmd);
void ngx_http_zkcredit_redis_write(ngx_http_zkcredit_cmd_t *cmd,
    const char *what);
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
extern redisReply  ngx_http_zkcredit_redis_unsent;
ngx_int_t ngx_http_zkcredit_reply_tagged(redisReply *reply, u_char *tag,
    size_t len);


#endif /* NGX_HTTP_ZKCREDIT_MODULE_H */
