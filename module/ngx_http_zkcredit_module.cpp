/*
 * zkcredit: configuration, directives, shared counters and registration.
 */

#include "ngx_http_zkcredit_module.h"

#include <new>
#include <optional>
#include <string>
#include <sodium.h>
#include <sys/stat.h>

#include "libverify/decimal.hpp"


static ngx_int_t ngx_http_zkcredit_add_variables(ngx_conf_t *cf);
static void *ngx_http_zkcredit_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_zkcredit_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_zkcredit_create_loc_conf(ngx_conf_t *cf);
static void ngx_http_zkcredit_destroy_signer(void *data);
static void ngx_http_zkcredit_destroy_receipt_key(void *data);
static char *ngx_http_zkcredit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_zkcredit_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_zkcredit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_zkcredit_init_process(ngx_cycle_t *cycle);
static void ngx_http_zkcredit_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_zkcredit_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_redis_auth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_mode(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_discovery(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_register(ngx_conf_t *cf,
    ngx_http_zkcredit_loc_conf_t *conf);
static char *ngx_http_zkcredit_scope(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_c_max(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_verification_key(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_zkcredit_signing_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_accept_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_receipt_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_zkcredit_receipt_domain(ngx_conf_t *cf,
    ngx_http_zkcredit_deployment_t *dep);
static char *ngx_http_zkcredit_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_refunds(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_check_text(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_zkcredit_check_contract(ngx_conf_t *cf, void *post,
    void *data);


static ngx_conf_enum_t  ngx_http_zkcredit_modes[] = {
    { ngx_string("off"), NGX_HTTP_ZKCREDIT_OFF },
    { ngx_string("on"), NGX_HTTP_ZKCREDIT_ON },
    { ngx_string("shadow"), NGX_HTTP_ZKCREDIT_SHADOW },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_zkcredit_meters[] = {
    { ngx_string("charge"), NGX_HTTP_ZKCREDIT_METER_CHARGE },
    { ngx_string("openai"), NGX_HTTP_ZKCREDIT_METER_OPENAI },
    { ngx_string("jsonrpc"), NGX_HTTP_ZKCREDIT_METER_JSONRPC },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_zkcredit_rpc_malformed[] = {
    { ngx_string("charge"), 0 },
    { ngx_string("refuse"), 1 },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_zkcredit_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


/* a conf post whose handler finds its own parameters behind it */
typedef struct {
    ngx_conf_post_handler_pt  post_handler;
    u_char                    lowest;
    const char               *what;
} ngx_http_zkcredit_text_post_t;


static ngx_http_zkcredit_text_post_t  ngx_http_zkcredit_realm_post = {
    ngx_http_zkcredit_check_text, ' ', "realm"
};


static ngx_http_zkcredit_text_post_t  ngx_http_zkcredit_json_safe_post = {
    ngx_http_zkcredit_check_text, '!', "URL"
};


static ngx_conf_post_t  ngx_http_zkcredit_contract_post = {
    ngx_http_zkcredit_check_contract
};


static ngx_command_t  ngx_http_zkcredit_commands[] = {

    { ngx_string("zkcredit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_mode,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, mode),
      &ngx_http_zkcredit_modes },

    { ngx_string("zkcredit_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_scope,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, scope_text),
      NULL },

    { ngx_string("zkcredit_c_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_c_max,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_verification_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_verification_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_signing_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_signing_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_accept_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_accept_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_charge"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, charge),
      NULL },

    { ngx_string("zkcredit_meter"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, meter),
      &ngx_http_zkcredit_meters },

    { ngx_string("zkcredit_token_price"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_zkcredit_token_price,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_rpc_price"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_zkcredit_rpc_price,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_rpc_malformed"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, rpc_refuse_malformed),
      &ngx_http_zkcredit_rpc_malformed },

    { ngx_string("zkcredit_meter_buffer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, meter_buffer),
      NULL },

    { ngx_string("zkcredit_refund_event"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, refund_event),
      NULL },

    { ngx_string("zkcredit_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, header_name),
      NULL },

    { ngx_string("zkcredit_refund_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, refund_header),
      NULL },

    { ngx_string("zkcredit_policy_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, policy_header),
      NULL },

    { ngx_string("zkcredit_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, realm),
      &ngx_http_zkcredit_realm_post },

    { ngx_string("zkcredit_root_window"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, root_window),
      NULL },

    { ngx_string("zkcredit_settle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, settle_timeout),
      NULL },

    { ngx_string("zkcredit_leaves_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, leaves_url),
      &ngx_http_zkcredit_json_safe_post },

    { ngx_string("zkcredit_deposit_contract"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, deposit_contract),
      &ngx_http_zkcredit_contract_post },

    { ngx_string("zkcredit_receipt_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_receipt_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_refunds_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, refunds_url),
      &ngx_http_zkcredit_json_safe_post },

    { ngx_string("zkcredit_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, log_level),
      &ngx_http_zkcredit_log_levels },

    { ngx_string("zkcredit_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_thread_pool,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_main_conf_t, redis_timeout),
      NULL },

    { ngx_string("zkcredit_redis_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_main_conf_t, redis_prefix),
      NULL },

    { ngx_string("zkcredit_redis_auth"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_redis_auth,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_redis_database"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_main_conf_t, redis_database),
      NULL },

    { ngx_string("zkcredit_verify_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_main_conf_t, verify_limit),
      NULL },

    { ngx_string("zkcredit_verify_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_main_conf_t, verify_queue),
      NULL },

    { ngx_string("zkcredit_verify_batch"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_main_conf_t, verify_batch),
      NULL },

    { ngx_string("zkcredit_refunds"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_zkcredit_refunds,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_zkcredit_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_discovery"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_zkcredit_discovery,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_zkcredit_module_ctx = {
    ngx_http_zkcredit_add_variables,       /* preconfiguration */
    ngx_http_zkcredit_init,                /* postconfiguration */

    ngx_http_zkcredit_create_main_conf,    /* create main configuration */
    ngx_http_zkcredit_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_zkcredit_create_loc_conf,     /* create location configuration */
    ngx_http_zkcredit_merge_loc_conf       /* merge location configuration */
};


extern "C" {

ngx_module_t  ngx_http_zkcredit_module = {
    NGX_MODULE_V1,
    &ngx_http_zkcredit_module_ctx,         /* module context */
    ngx_http_zkcredit_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_zkcredit_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_zkcredit_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};

}


static ngx_http_variable_t  ngx_http_zkcredit_vars[] = {

    { ngx_string("zkcredit_status"), NULL,
      ngx_http_zkcredit_status_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_zkcredit_zone_name = ngx_string("zkcredit");


static ngx_int_t
ngx_http_zkcredit_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_zkcredit_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_zkcredit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_zkcredit_main_conf_t  *zmcf;

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_pcalloc(cf->pool, sizeof(ngx_http_zkcredit_main_conf_t)));
    if (zmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     zmcf->redis_addr = { 0, NULL };
     *     zmcf->redis_host = { 0, NULL };
     *     zmcf->redis_prefix = { 0, NULL };
     *     zmcf->shm_zone = NULL;
     *     zmcf->counters = NULL;
     *     zmcf->enabled = 0;
     */

    zmcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    zmcf->redis_database = NGX_CONF_UNSET;
    zmcf->verify_limit = NGX_CONF_UNSET_UINT;
    zmcf->verify_queue = NGX_CONF_UNSET_UINT;
    zmcf->verify_batch = NGX_CONF_UNSET_UINT;

    if (ngx_array_init(&zmcf->deployments, cf->pool, 2,
                       sizeof(ngx_http_zkcredit_deployment_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return zmcf;
}


static char *
ngx_http_zkcredit_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_zkcredit_main_conf_t *zmcf =
        static_cast<ngx_http_zkcredit_main_conf_t *>(conf);

    ngx_core_conf_t  *ccf;

    ccf = reinterpret_cast<ngx_core_conf_t *>(
              ngx_get_conf(cf->cycle->conf_ctx, ngx_core_module));

    ngx_conf_init_msec_value(zmcf->redis_timeout, 200);
    ngx_conf_init_value(zmcf->redis_database, 0);
    ngx_conf_init_uint_value(zmcf->verify_queue, 1024);
    ngx_conf_init_uint_value(zmcf->verify_batch, 16);

    if (zmcf->verify_batch == 0
        || zmcf->verify_batch > NGX_HTTP_ZKCREDIT_BATCH_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"zkcredit_verify_batch\" must be 1 to %d",
                           NGX_HTTP_ZKCREDIT_BATCH_MAX);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    /*
     * Verification threads beyond the cores starve the event loops (and a
     * Redis on the same machine), whose replies then come too late: by
     * default the workers' verifications together keep one core free.
     */
    if (zmcf->verify_limit == NGX_CONF_UNSET_UINT) {
        zmcf->verify_limit = 1;
        if (ccf != NULL && ccf->worker_processes > 0 && ngx_ncpu > 1) {
            zmcf->verify_limit = ngx_max(1, (ngx_ncpu - 1)
                                            / ccf->worker_processes);
        }
    }

    if (zmcf->verify_limit == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"zkcredit_verify_concurrency\" must be at least 1");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (zmcf->redis_prefix.data == NULL) {
        ngx_str_set(&zmcf->redis_prefix, "zkcredit:");
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_zkcredit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_zkcredit_loc_conf_t  *conf;

    conf = static_cast<ngx_http_zkcredit_loc_conf_t *>(
               ngx_pcalloc(cf->pool, sizeof(ngx_http_zkcredit_loc_conf_t)));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->scope_text = { 0, NULL };
     *     conf->vk = NULL;
     *     conf->vk_digest = { 0 };
     *     conf->signer = NULL;
     *     conf->charge = NULL;
     *     conf->header_name = { 0, NULL };
     *     conf->refund_header = { 0, NULL };
     *     conf->policy_header = { 0, NULL };
     *     conf->realm = { 0, NULL };
     *     conf->leaves_url = { 0, NULL };
     *     conf->deposit_contract = { 0, NULL };
     *     conf->receipt_key = NULL;
     *     conf->refunds_url = { 0, NULL };
     *     conf->thread_pool = NULL;
     *     conf->mode_file = NULL;
     *     conf->mode_line = 0;
     *     conf->deployment = NULL;
     */

    conf->mode = NGX_CONF_UNSET_UINT;
    conf->c_max = NGX_HTTP_ZKCREDIT_UNSET_AMOUNT;
    conf->accept_keys = static_cast<ngx_array_t *>(NGX_CONF_UNSET_PTR);
    conf->root_window = NGX_CONF_UNSET;
    conf->settle_timeout = NGX_CONF_UNSET;
    conf->log_level = NGX_CONF_UNSET_UINT;
    conf->meter = NGX_CONF_UNSET_UINT;
    conf->token_prices = static_cast<ngx_array_t *>(NGX_CONF_UNSET_PTR);
    conf->rpc_prices = static_cast<ngx_array_t *>(NGX_CONF_UNSET_PTR);
    conf->rpc_default = NGX_CONF_UNSET_SIZE;
    conf->rpc_refuse_malformed = NGX_CONF_UNSET_UINT;
    conf->meter_buffer = NGX_CONF_UNSET_SIZE;

    return conf;
}


/* "in file:line" of the "zkcredit" directive that turned this location on */
#define ngx_http_zkcredit_merge_error(cf, conf, fmt, ...)                     \
    ngx_log_error(NGX_LOG_EMERG, (cf)->log, 0, fmt " in %s:%ui",              \
                  __VA_ARGS__, (conf)->mode_file, (conf)->mode_line)


static char *
ngx_http_zkcredit_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_zkcredit_loc_conf_t *prev =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(parent);
    ngx_http_zkcredit_loc_conf_t *conf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(child);

    ngx_conf_merge_uint_value(conf->mode, prev->mode,
                              static_cast<ngx_uint_t>(NGX_HTTP_ZKCREDIT_OFF));
    ngx_conf_merge_str_value(conf->scope_text, prev->scope_text, "");

    if (conf->mode_file == NULL) {
        conf->mode_file = prev->mode_file;
        conf->mode_line = prev->mode_line;
    }

    if (conf->c_max == NGX_HTTP_ZKCREDIT_UNSET_AMOUNT) {
        conf->c_max = prev->c_max;
    }

    if (conf->vk == NULL) {
        conf->vk = prev->vk;
        ngx_memcpy(conf->vk_digest, prev->vk_digest, sizeof(conf->vk_digest));
    }

    if (conf->signer == NULL) {
        conf->signer = prev->signer;
    }

    if (conf->receipt_key == NULL) {
        conf->receipt_key = prev->receipt_key;
    }

    /* inherited whole, never added to: siblings do not share keys */
    ngx_conf_merge_ptr_value(conf->accept_keys, prev->accept_keys, NULL);
    ngx_conf_merge_ptr_value(conf->token_prices, prev->token_prices, NULL);
    ngx_conf_merge_ptr_value(conf->rpc_prices, prev->rpc_prices, NULL);

    ngx_conf_merge_uint_value(conf->meter, prev->meter,
        static_cast<ngx_uint_t>(NGX_HTTP_ZKCREDIT_METER_CHARGE));
    ngx_conf_merge_uint_value(conf->rpc_refuse_malformed,
                              prev->rpc_refuse_malformed, 0);
    ngx_conf_merge_size_value(conf->meter_buffer, prev->meter_buffer,
                              1024 * 1024);
    ngx_conf_merge_str_value(conf->refund_event, prev->refund_event,
                             "zkcredit-refund");

    /* unset: 2^64 - 1, so that unpriced methods cost C_max */
    if (conf->rpc_default == NGX_CONF_UNSET_SIZE) {
        conf->rpc_default = prev->rpc_default;
    }

    if (conf->charge == NULL) {
        conf->charge = prev->charge;
    }

    if (conf->thread_pool == NULL) {
        conf->thread_pool = prev->thread_pool;
    }

    ngx_conf_merge_str_value(conf->header_name, prev->header_name,
                             "ZKCredit-Credential");
    ngx_conf_merge_str_value(conf->refund_header, prev->refund_header,
                             "ZKCredit-Refund");
    ngx_conf_merge_str_value(conf->policy_header, prev->policy_header,
                             "ZKCredit-Policy");
    ngx_conf_merge_str_value(conf->realm, prev->realm, "zkcredit");
    ngx_conf_merge_str_value(conf->leaves_url, prev->leaves_url, "");
    ngx_conf_merge_str_value(conf->deposit_contract, prev->deposit_contract,
                             "");
    ngx_conf_merge_str_value(conf->refunds_url, prev->refunds_url, "");
    ngx_conf_merge_sec_value(conf->root_window, prev->root_window, 600);
    ngx_conf_merge_sec_value(conf->settle_timeout, prev->settle_timeout, 600);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_INFO);

    if (conf->mode == NGX_HTTP_ZKCREDIT_OFF) {
        return NGX_CONF_OK;
    }

    if (conf->scope_text.len == 0) {
        ngx_http_zkcredit_merge_error(cf, conf, "%s",
            "\"zkcredit_scope\" must be set where \"zkcredit\" is on");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (conf->c_max == NGX_HTTP_ZKCREDIT_UNSET_AMOUNT) {
        ngx_http_zkcredit_merge_error(cf, conf, "%s",
            "\"zkcredit_c_max\" must be set where \"zkcredit\" is on");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (conf->vk == NULL) {
        ngx_http_zkcredit_merge_error(cf, conf, "%s",
            "\"zkcredit_verification_key\" must be set where \"zkcredit\" "
            "is on");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (conf->signer == NULL) {
        ngx_http_zkcredit_merge_error(cf, conf, "%s",
            "\"zkcredit_signing_key\" must be set where \"zkcredit\" is on");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (conf->receipt_key != NULL && conf->deposit_contract.len == 0) {
        ngx_http_zkcredit_merge_error(cf, conf, "%s",
            "\"zkcredit_receipt_key\" needs \"zkcredit_deposit_contract\": "
            "a receipt is burned at the deposit contract it names");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (conf->settle_timeout <= 0) {
        ngx_http_zkcredit_merge_error(cf, conf, "%s",
            "\"zkcredit_settle_timeout\" must be positive");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (conf->thread_pool == NULL) {
        ngx_str_t  name = ngx_string("default");

        conf->thread_pool = ngx_thread_pool_add(cf, &name);
        if (conf->thread_pool == NULL) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }
    }

    return ngx_http_zkcredit_register(cf, conf);
}


static ngx_uint_t
ngx_http_zkcredit_has_key(ngx_array_t *keys, const libverify::Fr &key)
{
    ngx_uint_t      i;
    libverify::Fr  *k;

    k = static_cast<libverify::Fr *>(keys->elts);

    for (i = 0; i < keys->nelts; i++) {
        if (k[i] == key) {
            return 1;
        }
    }

    return 0;
}


/* the keys whose vouchers a location accepts: its own, and the retired */
static ngx_array_t *
ngx_http_zkcredit_key_set(ngx_conf_t *cf, ngx_http_zkcredit_loc_conf_t *conf)
{
    ngx_uint_t      i, n;
    ngx_array_t    *keys;
    libverify::Fr  *k, *accepted;

    n = conf->accept_keys ? conf->accept_keys->nelts : 0;

    keys = ngx_array_create(cf->pool, n + 1, sizeof(libverify::Fr));
    if (keys == NULL) {
        return NULL;
    }

    k = static_cast<libverify::Fr *>(ngx_array_push(keys));
    if (k == NULL) {
        return NULL;
    }
    *k = conf->signer->key_hash;

    accepted = n ? static_cast<libverify::Fr *>(conf->accept_keys->elts) : NULL;

    for (i = 0; i < n; i++) {
        if (ngx_http_zkcredit_has_key(keys, accepted[i])) {
            continue;
        }
        k = static_cast<libverify::Fr *>(ngx_array_push(keys));
        if (k == NULL) {
            return NULL;
        }
        *k = accepted[i];
    }

    return keys;
}


static ngx_uint_t
ngx_http_zkcredit_same_keys(ngx_array_t *a, ngx_array_t *b)
{
    ngx_uint_t      i;
    libverify::Fr  *k;

    if (a->nelts != b->nelts) {
        return 0;
    }

    k = static_cast<libverify::Fr *>(a->elts);

    for (i = 0; i < a->nelts; i++) {
        if (!ngx_http_zkcredit_has_key(b, k[i])) {
            return 0;
        }
    }

    return 1;
}


/*
 * Every location that names a scope must mean one deployment by it: the
 * nullifier of ticket i is the same at all of them, so one scope with two
 * prices would let one deposit buy as much again at each price level
 * (docs/protocol.md §2). Prices per endpoint are what the charge is for.
 */
static char *
ngx_http_zkcredit_register(ngx_conf_t *cf, ngx_http_zkcredit_loc_conf_t *conf)
{
    const char                       *differs;
    ngx_uint_t                        i;
    ngx_array_t                      *keys;
    ngx_http_zkcredit_deployment_t   *dep, **slot, **deps;
    ngx_http_zkcredit_main_conf_t    *zmcf;

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_conf_get_module_main_conf(cf, ngx_http_zkcredit_module));
    zmcf->enabled = 1;

    keys = ngx_http_zkcredit_key_set(cf, conf);
    if (keys == NULL) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    deps = static_cast<ngx_http_zkcredit_deployment_t **>(zmcf->deployments.elts);

    for (i = 0; i < zmcf->deployments.nelts; i++) {
        dep = deps[i];

        if (dep->scope_text.len != conf->scope_text.len
            || ngx_strncmp(dep->scope_text.data, conf->scope_text.data,
                           conf->scope_text.len) != 0)
        {
            continue;
        }

        differs = NULL;

        if (dep->c_max != conf->c_max) {
            differs = "\"zkcredit_c_max\"";

        } else if (ngx_memcmp(dep->vk_digest, conf->vk_digest,
                              sizeof(dep->vk_digest)) != 0)
        {
            differs = "\"zkcredit_verification_key\"";

        } else if (!(dep->signer->key_hash == conf->signer->key_hash)) {
            differs = "\"zkcredit_signing_key\"";

        } else if (!ngx_http_zkcredit_same_keys(dep->keys, keys)) {
            differs = "\"zkcredit_accept_key\"";

        } else if (dep->root_window != conf->root_window) {
            differs = "\"zkcredit_root_window\"";

        } else if (dep->settle_timeout != conf->settle_timeout) {
            differs = "\"zkcredit_settle_timeout\"";

        } else if (dep->deposit_contract.len != conf->deposit_contract.len
                   || ngx_strncmp(dep->deposit_contract.data,
                                  conf->deposit_contract.data,
                                  conf->deposit_contract.len) != 0)
        {
            differs = "\"zkcredit_deposit_contract\"";

        } else if ((dep->receipt_key == NULL) != (conf->receipt_key == NULL)
                   || (dep->receipt_key != NULL
                       && dep->receipt_key->address()
                          != conf->receipt_key->address()))
        {
            differs = "\"zkcredit_receipt_key\"";

        } else if (dep->header_name.len != conf->header_name.len
                   || ngx_strncasecmp(dep->header_name.data,
                                      conf->header_name.data,
                                      conf->header_name.len) != 0
                   || dep->refund_header.len != conf->refund_header.len
                   || ngx_strncasecmp(dep->refund_header.data,
                                      conf->refund_header.data,
                                      conf->refund_header.len) != 0)
        {
            differs = "\"zkcredit_header\" or \"zkcredit_refund_header\"";
        }

        if (differs != NULL) {
            ngx_http_zkcredit_merge_error(cf, conf,
                "scope \"%V\" is used with another %s than in %s:%ui; one "
                "scope is one deployment: give each price schedule its own "
                "scope, or price endpoints with \"zkcredit_charge\"",
                &conf->scope_text, differs, dep->file, dep->line);
            return static_cast<char *>(NGX_CONF_ERROR);
        }

        conf->deployment = dep;
        return NGX_CONF_OK;
    }

    dep = static_cast<ngx_http_zkcredit_deployment_t *>(
              ngx_pcalloc(cf->pool, sizeof(ngx_http_zkcredit_deployment_t)));
    slot = static_cast<ngx_http_zkcredit_deployment_t **>(
               ngx_array_push(&zmcf->deployments));
    if (dep == NULL || slot == NULL) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    new (&dep->verify) libverify::Deployment();

    if (libverify::fr_from_decimal(
            std::string_view(reinterpret_cast<char *>(conf->scope_text.data),
                             conf->scope_text.len),
            dep->verify.scope)
        != libverify::Status::ok)
    {
        ngx_http_zkcredit_merge_error(cf, conf,
            "invalid scope \"%V\": not below the BN254 scalar field modulus",
            &conf->scope_text);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    dep->scope_text = conf->scope_text;
    dep->c_max = conf->c_max;
    dep->verify.vk = conf->vk;
    dep->verify.c_max = conf->c_max;
    ngx_memcpy(dep->vk_digest, conf->vk_digest, sizeof(dep->vk_digest));
    dep->signer = conf->signer;
    dep->keys = keys;
    dep->root_window = conf->root_window;
    dep->settle_timeout = conf->settle_timeout;
    dep->leaves_url = conf->leaves_url;
    dep->deposit_contract = conf->deposit_contract;
    dep->receipt_key = conf->receipt_key;
    dep->refunds_url = conf->refunds_url;
    dep->header_name = conf->header_name;
    dep->refund_header = conf->refund_header;
    dep->file = conf->mode_file;
    dep->line = conf->mode_line;

    if (dep->receipt_key != NULL
        && ngx_http_zkcredit_receipt_domain(cf, dep) != NGX_OK)
    {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    *slot = dep;
    conf->deployment = dep;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_zkcredit_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt            *h;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_zkcredit_main_conf_t  *zmcf;

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_conf_get_module_main_conf(cf, ngx_http_zkcredit_module));

    if (!zmcf->enabled) {
        return NGX_OK;
    }

    if (zmcf->redis_addr.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"zkcredit_redis\" must be set in the http block "
                           "where \"zkcredit\" is used");
        return NGX_ERROR;
    }

    zmcf->shm_zone = ngx_shared_memory_add(cf, &ngx_http_zkcredit_zone_name,
                                           8 * ngx_pagesize,
                                           &ngx_http_zkcredit_module);
    if (zmcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    zmcf->shm_zone->init = ngx_http_zkcredit_init_zone;
    zmcf->shm_zone->data = zmcf;

    cmcf = static_cast<ngx_http_core_main_conf_t *>(
               ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));

    /*
     * The gate is a precontent handler, not an access one: it runs only
     * once nginx's access checks (allow/deny, auth_basic, auth_request,
     * under "satisfy all" and "satisfy any" alike) have let the request
     * through, so nothing is spent on a request they refuse, and "satisfy
     * any" cannot skip it. Handlers of a phase run in the reverse order of
     * their modules (module/config places this one after try_files and
     * mirror), so it runs before them.
     */
    h = static_cast<ngx_http_handler_pt *>(
            ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers));
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_zkcredit_gate_handler;

    return ngx_http_zkcredit_filter_init(cf);
}


static ngx_uint_t
ngx_http_zkcredit_counters_fit(ngx_http_zkcredit_counters_t *counters)
{
    return counters != NULL
           && counters->layout == NGX_HTTP_ZKCREDIT_COUNTERS_LAYOUT
           && counters->size == sizeof(ngx_http_zkcredit_counters_t);
}


/*
 * Counters survive reloads: a new cycle adopts the old zone's block, but
 * only one of the same layout (a reload may load another build of the
 * module); another layout starts a new block.
 */
static ngx_int_t
ngx_http_zkcredit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t                *shpool;
    ngx_http_zkcredit_main_conf_t  *zmcf, *ozmcf;
    ngx_http_zkcredit_counters_t   *old;

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(shm_zone->data);
    ozmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(data);
    shpool = reinterpret_cast<ngx_slab_pool_t *>(shm_zone->shm.addr);

    old = (ozmcf != NULL) ? ozmcf->counters
          : shm_zone->shm.exists
            ? static_cast<ngx_http_zkcredit_counters_t *>(shpool->data)
            : NULL;

    if (ngx_http_zkcredit_counters_fit(old)) {
        zmcf->counters = old;
        return NGX_OK;
    }

    if (old != NULL) {
        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "zkcredit: counters of another module build were "
                      "not adopted; metrics start again from zero");
    }

    zmcf->counters = static_cast<ngx_http_zkcredit_counters_t *>(
                         ngx_slab_calloc(shpool,
                                         sizeof(ngx_http_zkcredit_counters_t)));
    if (zmcf->counters == NULL) {
        return NGX_ERROR;
    }

    zmcf->counters->layout = NGX_HTTP_ZKCREDIT_COUNTERS_LAYOUT;
    zmcf->counters->size = sizeof(ngx_http_zkcredit_counters_t);
    shpool->data = zmcf->counters;

    return NGX_OK;
}


static ngx_int_t
ngx_http_zkcredit_init_process(ngx_cycle_t *cycle)
{
    ngx_http_zkcredit_main_conf_t  *zmcf;

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_cycle_get_module_main_conf(cycle,
                                                   ngx_http_zkcredit_module));

    if (zmcf == NULL || !zmcf->enabled) {
        return NGX_OK;
    }

    return ngx_http_zkcredit_redis_init_process(cycle, zmcf);
}


static void
ngx_http_zkcredit_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_zkcredit_redis_exit_process();
}


ngx_http_zkcredit_counters_t *
ngx_http_zkcredit_counters(ngx_http_request_t *r)
{
    ngx_http_zkcredit_main_conf_t  *zmcf;

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_get_module_main_conf(r, ngx_http_zkcredit_module));

    return zmcf->counters;
}


void
ngx_http_zkcredit_count(ngx_http_request_t *r,
    ngx_http_zkcredit_outcome_e outcome)
{
    ngx_http_zkcredit_counters_t  *counters;

    counters = ngx_http_zkcredit_counters(r);

    if (counters != NULL) {
        (void) ngx_atomic_fetch_add(&counters->outcomes[outcome], 1);
    }
}


void
ngx_http_zkcredit_field_hex(const libverify::Fr &value, u_char *out)
{
    u_char  bytes[32];

    value.to_bytes_be(bytes);
    ngx_hex_dump(out, bytes, sizeof(bytes));
}


/*
 * nginx 1.22 does not link repeated headers, so walk the list: callers see
 * every copy to reject duplicates. Removed entries (hash 0) do not count.
 */
ngx_table_elt_t *
ngx_http_zkcredit_find_header(ngx_list_t *headers, ngx_str_t *name,
    ngx_uint_t *count)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *found;

    *count = 0;
    found = NULL;

    part = &headers->part;
    h = static_cast<ngx_table_elt_t *>(part->elts);

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = static_cast<ngx_table_elt_t *>(part->elts);
            i = 0;
        }

        if (h[i].hash != 0 && h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            (*count)++;
            found = &h[i];
        }
    }

    return found;
}


/* removes every copy of a header; returns how many there were */
ngx_uint_t
ngx_http_zkcredit_hide_headers(ngx_list_t *headers, ngx_str_t *name)
{
    ngx_uint_t        n, count;
    ngx_table_elt_t  *h;

    n = 0;

    while ((h = ngx_http_zkcredit_find_header(headers, name, &count)) != NULL) {
        h->hash = 0;
        n++;
    }

    return n;
}


ngx_table_elt_t *
ngx_http_zkcredit_push_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = static_cast<ngx_table_elt_t *>(ngx_list_push(&r->headers_out.headers));
    if (h == NULL) {
        return NULL;
    }

    /* nginx 1.23 links repeated headers through "next" */
    ngx_memzero(h, sizeof(ngx_table_elt_t));
    h->hash = 1;
    h->key = *key;
    h->value = *value;

    return h;
}


/*
 * Sends a complete response whose body is [start, end) in the request pool;
 * returns what the content phase expects.
 */
ngx_int_t
ngx_http_zkcredit_send_body(ngx_http_request_t *r, ngx_uint_t status,
    const char *content_type, u_char *start, u_char *end)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = static_cast<ngx_buf_t *>(ngx_calloc_buf(r->pool));
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = start;
    b->last = end;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_type.data =
        reinterpret_cast<u_char *>(const_cast<char *>(content_type));
    r->headers_out.content_type.len = ngx_strlen(content_type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = end - start;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * Whether a value can go into a JSON string and an RFC 9110 quoted-string
 * as it is: printable ASCII from "lowest" up, without quotes or backslashes.
 */
ngx_uint_t
ngx_http_zkcredit_plain_text(ngx_str_t *value, u_char lowest)
{
    ngx_uint_t  i;

    for (i = 0; i < value->len; i++) {
        if (value->data[i] < lowest || value->data[i] > 0x7e
            || value->data[i] == '"' || value->data[i] == '\\')
        {
            return 0;
        }
    }

    return 1;
}


/* continues a suspended request from the event loop, as nginx's own do */
void
ngx_http_zkcredit_resume(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
}


/* the request is being freed: whatever Redis answers later is dropped */
void
ngx_http_zkcredit_cancel(ngx_http_zkcredit_redis_op_t **op, ngx_event_t *wake)
{
    if (*op != NULL) {
        ngx_http_zkcredit_redis_detach(*op);
        *op = NULL;
    }

    if (wake->posted) {
        ngx_delete_posted_event(wake);
    }
}


/*
 * "host:port", "[v6]:port" or "unix:/path". The address is resolved here,
 * once: a worker never waits for DNS.
 */
static char *
ngx_http_zkcredit_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_zkcredit_main_conf_t *zmcf =
        static_cast<ngx_http_zkcredit_main_conf_t *>(conf);

    size_t      len;
    u_char     *host;
    ngx_str_t  *value;
    ngx_url_t   u;

    if (zmcf->redis_addr.data != NULL) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = 6379;
    u.no_resolve = 0;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in redis address \"%V\"",
                           u.err ? u.err : "invalid", &u.url);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis address \"%V\" did not resolve", &u.url);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    zmcf->redis_addr = value[1];

    if (u.family == AF_UNIX) {
        zmcf->redis_unix = 1;
        len = u.host.len;
        host = static_cast<u_char *>(ngx_pnalloc(cf->pool, len + 1));
        if (host == NULL) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }
        ngx_memcpy(host, u.host.data, len);

    } else {
        host = static_cast<u_char *>(ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1));
        if (host == NULL) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }
        len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, host,
                            NGX_SOCKADDR_STRLEN, 0);
        zmcf->redis_port = ngx_inet_get_port(u.addrs[0].sockaddr);
    }

    host[len] = '\0';
    zmcf->redis_host.data = host;
    zmcf->redis_host.len = len;

    return NGX_CONF_OK;
}


/*
 * The scope is a public input of the proof: a decimal field element below
 * the BN254 scalar modulus, written canonically (no sign, no leading zeros).
 */
static char *
ngx_http_zkcredit_scope(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t      *value;
    libverify::Fr   scope;

    value = static_cast<ngx_str_t *>(cf->args->elts);

    if (libverify::fr_from_decimal(
            std::string_view(reinterpret_cast<char *>(value[1].data),
                             value[1].len), scope)
        != libverify::Status::ok)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid scope \"%V\": expected a decimal field "
                           "element", &value[1]);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    return ngx_conf_set_str_slot(cf, cmd, conf);
}


/* amounts are credit units in 1 .. 2^64 - 1, as the circuit range-checks */
static char *
ngx_http_zkcredit_c_max(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_zkcredit_loc_conf_t *zlcf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(conf);

    uint64_t    amount;
    ngx_str_t  *value;

    if (zlcf->c_max != NGX_HTTP_ZKCREDIT_UNSET_AMOUNT) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);

    if (ngx_http_zkcredit_parse_amount(&value[1], &amount) != NGX_OK
        || amount == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid C_max \"%V\": a whole number of credit "
                           "units from 1 to 18446744073709551615 expected",
                           &value[1]);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    zlcf->c_max = amount;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_zkcredit_parse_amount(ngx_str_t *text, uint64_t *amount)
{
    uint64_t    n, digit;
    ngx_uint_t  i;

    if (text->len == 0 || text->len > NGX_UINT64_LEN
        || (text->len > 1 && text->data[0] == '0'))
    {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < text->len; i++) {
        if (text->data[i] < '0' || text->data[i] > '9') {
            return NGX_ERROR;
        }

        digit = text->data[i] - '0';

        if (n > (UINT64_MAX - digit) / 10) {
            return NGX_ERROR;
        }

        n = n * 10 + digit;
    }

    *amount = n;

    return NGX_OK;
}


/* reads a whole small file named relative to the prefix */
static ngx_int_t
ngx_http_zkcredit_read_file(ngx_conf_t *cf, ngx_str_t *name, ngx_str_t *out,
    ngx_file_info_t *fi)
{
    ssize_t    n;
    ngx_fd_t   fd;
    ngx_str_t  path;

    path = *name;

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    /* non-blocking, so that a FIFO in its place cannot hang nginx -t */
    fd = ngx_open_file(path.data, NGX_FILE_RDONLY|NGX_FILE_NONBLOCK,
                       NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &path);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, fi) == NGX_FILE_ERROR || !ngx_is_file(fi)
        || ngx_file_size(fi) > 1024 * 1024)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" is not a regular file of at most 1 MiB",
                           &path);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    out->len = static_cast<size_t>(ngx_file_size(fi));
    out->data = static_cast<u_char *>(ngx_pnalloc(cf->temp_pool, out->len + 1));
    if (out->data == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, out->data, out->len);
    ngx_close_file(fd);

    if (n < 0 || static_cast<size_t>(n) != out->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read \"%V\"", &path);
        return NGX_ERROR;
    }

    *name = path;

    return NGX_OK;
}


/* a file holding a secret: readable by its owner only, wiped if refused */
static ngx_int_t
ngx_http_zkcredit_read_secret(ngx_conf_t *cf, ngx_str_t *name, ngx_str_t *text,
    const char *what)
{
    ngx_file_info_t  fi;

    if (ngx_http_zkcredit_read_file(cf, name, text, &fi) != NGX_OK) {
        return NGX_ERROR;
    }

    if (fi.st_mode & (S_IRWXG | S_IRWXO)) {
        sodium_memzero(text->data, text->len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\" is accessible by group or others "
                           "(mode %04o); chmod 600 it", what, name,
                           static_cast<unsigned>(fi.st_mode & 07777));
        return NGX_ERROR;
    }

    return NGX_OK;
}


template <class T>
static void
ngx_http_zkcredit_destroy(void *data)
{
    static_cast<T *>(data)->~T();
}


static char *
ngx_http_zkcredit_verification_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_zkcredit_loc_conf_t *zlcf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(conf);

    ngx_str_t           *value, name, text;
    ngx_file_info_t      fi;
    libverify::Status    st;
    ngx_pool_cleanup_t  *cln;

    if (zlcf->vk != NULL) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);
    name = value[1];

    if (ngx_http_zkcredit_read_file(cf, &name, &text, &fi) != NGX_OK) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(libverify::VerifyingKey));
    if (cln == NULL) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    /* names the key's content, so that locations can be compared */
    crypto_hash_sha256(zlcf->vk_digest, text.data, text.len);

    zlcf->vk = new (cln->data) libverify::VerifyingKey();
    cln->handler = ngx_http_zkcredit_destroy<libverify::VerifyingKey>;

    st = libverify::VerifyingKey::from_json(
             std::string_view(reinterpret_cast<char *>(text.data), text.len),
             *zlcf->vk);

    if (st != libverify::Status::ok) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid verification key \"%V\": %s", &name,
                           libverify::status_name(st));
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (zlcf->vk->n_public() != libverify::kCreditPublicInputs) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "verification key \"%V\" has %uz public inputs; "
                           "the credit circuit has %uz", &name,
                           zlcf->vk->n_public(),
                           libverify::kCreditPublicInputs);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_zkcredit_unhex(const u_char *text, size_t len, u_char *out, size_t n)
{
    size_t     i;
    ngx_int_t  hi, lo;

    if (len != 2 * n) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        hi = ngx_hextoi(const_cast<u_char *>(&text[2 * i]), 1);
        lo = ngx_hextoi(const_cast<u_char *>(&text[2 * i + 1]), 1);
        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }
        out[i] = static_cast<u_char>(hi * 16 + lo);
    }

    return NGX_OK;
}


/*
 * The refund signing key: 64 hex digits (32 bytes) in a file that only its
 * owner may read. The secret is wiped from every buffer it passed through.
 */
static char *
ngx_http_zkcredit_signing_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_zkcredit_loc_conf_t *zlcf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(conf);

    u_char                       secret[libverify::kEddsaPrivateKeyBytes];
    u_char                       packed[libverify::kBabyJubPackedBytes];
    ngx_str_t                   *value, name, text, hex;
    ngx_int_t                    rc;
    ngx_pool_cleanup_t          *cln;
    ngx_http_zkcredit_signer_t  *signer;
    libverify::EddsaPrivateKey   secret_key;

    if (zlcf->signer != NULL) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);
    name = value[1];

    if (ngx_http_zkcredit_read_secret(cf, &name, &text, "signing key")
        != NGX_OK)
    {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    hex = text;
    while (hex.len > 0 && (hex.data[hex.len - 1] == '\n'
                           || hex.data[hex.len - 1] == '\r'))
    {
        hex.len--;
    }

    rc = ngx_http_zkcredit_unhex(hex.data, hex.len, secret, sizeof(secret));
    sodium_memzero(text.data, text.len);

    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "signing key \"%V\" must hold 64 hex digits", &name);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(ngx_http_zkcredit_signer_t));
    if (cln == NULL) {
        sodium_memzero(secret, sizeof(secret));
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    (void) libverify::EddsaPrivateKey::from_bytes(secret, sizeof(secret),
                                                  secret_key);
    sodium_memzero(secret, sizeof(secret));

    signer = new (cln->data) ngx_http_zkcredit_signer_t(secret_key);
    cln->handler = ngx_http_zkcredit_destroy_signer;

    /* out of swap and of core dumps (sodium_mlock also sets DONTDUMP) */
    if (sodium_mlock(signer, sizeof(ngx_http_zkcredit_signer_t)) != 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, ngx_errno,
                           "the expanded signing key could not be locked in "
                           "memory (RLIMIT_MEMLOCK); it may reach swap");
    }

    signer->key_hash = libverify::server_key_hash(signer->key.public_key());
    libverify::baby_jub_pack(signer->key.public_key(), packed);
    ngx_hex_dump(signer->packed, packed, sizeof(packed));

    zlcf->signer = signer;

    return NGX_CONF_OK;
}


static void
ngx_http_zkcredit_destroy_signer(void *data)
{
    ngx_http_zkcredit_signer_t *signer =
        static_cast<ngx_http_zkcredit_signer_t *>(data);

    signer->~ngx_http_zkcredit_signer_t();

    /* wipes the memory whether or not it was locked */
    (void) sodium_munlock(signer, sizeof(ngx_http_zkcredit_signer_t));
}


/*
 * "zkcredit_receipt_key file": the secp256k1 key that signs policy
 * receipts, read by zkchain::Signer (owner-only file, key in locked memory,
 * the file's contents never in a message), as the registry and the client
 * read their chain keys.
 */
static char *
ngx_http_zkcredit_receipt_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_zkcredit_loc_conf_t *zlcf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(conf);

    ngx_str_t           *value, name;
    ngx_pool_cleanup_t  *cln;

    if (zlcf->receipt_key != NULL) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(zkchain::Signer));
    if (cln == NULL) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    try {
        zlcf->receipt_key = new (cln->data) zkchain::Signer(
            zkchain::Signer::from_file(
                std::string(reinterpret_cast<char *>(name.data), name.len)));

    } catch (const std::exception &e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "receipt key: %s", e.what());
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    cln->handler = ngx_http_zkcredit_destroy_receipt_key;

    return NGX_CONF_OK;
}


static void
ngx_http_zkcredit_destroy_receipt_key(void *data)
{
    /* the Signer wipes and frees its key */
    static_cast<zkchain::Signer *>(data)->~Signer();
}


/*
 * Where the deployment's receipts are burned: the chain id and address of
 * its deposit contract ("eip155:<chain id>:0x<address>", checked when it
 * was read), and the receipt key's address for the discovery document.
 */
static ngx_int_t
ngx_http_zkcredit_receipt_domain(ngx_conf_t *cf,
    ngx_http_zkcredit_deployment_t *dep)
{
    u_char                         *chain, *colon, *last;
    off_t                           chain_id;
    std::string                     signer;
    std::optional<zkchain::Address> contract;

    chain = dep->deposit_contract.data + sizeof("eip155:") - 1;
    last = dep->deposit_contract.data + dep->deposit_contract.len;
    colon = static_cast<u_char *>(ngx_strlchr(chain, last, ':'));

    chain_id = ngx_atoof(chain, colon - chain);
    contract = zkchain::Address::parse(
        std::string_view(reinterpret_cast<char *>(colon + 1), last - colon - 1));

    if (chain_id == NGX_ERROR || !contract) {
        return NGX_ERROR;
    }

    dep->receipt_domain.chain_id = static_cast<uint64_t>(chain_id);
    dep->receipt_domain.contract = *contract;

    signer = dep->receipt_key->address().checksummed();

    dep->receipt_signer.data = static_cast<u_char *>(
                                   ngx_pnalloc(cf->pool, signer.size()));
    if (dep->receipt_signer.data == NULL) {
        return NGX_ERROR;
    }

    dep->receipt_signer.len = signer.size();
    ngx_memcpy(dep->receipt_signer.data, signer.data(), signer.size());

    return NGX_OK;
}


/* a retired signing key whose vouchers clients may still present */
static char *
ngx_http_zkcredit_accept_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_zkcredit_loc_conf_t *zlcf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(conf);

    u_char                    packed[libverify::kBabyJubPackedBytes];
    ngx_str_t                *value;
    libverify::Fr            *hash;
    libverify::BabyJubAffine  key;

    value = static_cast<ngx_str_t *>(cf->args->elts);

    if (ngx_http_zkcredit_unhex(value[1].data, value[1].len, packed,
                                sizeof(packed)) != NGX_OK
        || libverify::baby_jub_unpack(packed, key) != libverify::Status::ok
        || libverify::baby_jub_check(key) != libverify::Status::ok)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid public key \"%V\": 64 hex digits of a "
                           "packed Baby Jubjub point expected", &value[1]);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (zlcf->accept_keys == NGX_CONF_UNSET_PTR) {
        zlcf->accept_keys = ngx_array_create(cf->pool, 2,
                                             sizeof(libverify::Fr));
        if (zlcf->accept_keys == NULL) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }
    }

    hash = static_cast<libverify::Fr *>(ngx_array_push(zlcf->accept_keys));
    if (hash == NULL) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    *hash = libverify::server_key_hash(key);

    return NGX_CONF_OK;
}


static char *
ngx_http_zkcredit_header(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t   *value;
    ngx_uint_t   i;
    u_char       ch;

    value = static_cast<ngx_str_t *>(cf->args->elts);

    if (value[1].len == 0) {
        goto invalid;
    }

    /* an RFC 9110 token, so that nginx's header parser can deliver it */
    for (i = 0; i < value[1].len; i++) {
        ch = value[1].data[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9') || ch == '-'))
        {
            goto invalid;
        }
    }

    return ngx_conf_set_str_slot(cf, cmd, conf);

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid header name \"%V\"", &value[1]);
    return static_cast<char *>(NGX_CONF_ERROR);
}


static char *
ngx_http_zkcredit_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_zkcredit_loc_conf_t *zlcf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(conf);

    ngx_str_t  *value;

    if (zlcf->thread_pool != NULL) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);

    zlcf->thread_pool = ngx_thread_pool_add(cf, &value[1]);
    if (zlcf->thread_pool == NULL) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_zkcredit_refunds(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_zkcredit_main_conf_t  *zmcf;

    clcf = static_cast<ngx_http_core_loc_conf_t *>(
               ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = ngx_http_zkcredit_refunds_handler;

    /* the lookups go to the same Redis as the spends */
    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_conf_get_module_main_conf(cf, ngx_http_zkcredit_module));
    zmcf->enabled = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_zkcredit_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = static_cast<ngx_http_core_loc_conf_t *>(
               ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = ngx_http_zkcredit_metrics_handler;

    return NGX_CONF_OK;
}


/* "zkcredit on|off|shadow"; where it was set names the deployment's
 * location in configuration errors found at merge time */
static char *
ngx_http_zkcredit_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_zkcredit_loc_conf_t *zlcf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(conf);

    char  *rv;

    rv = ngx_conf_set_enum_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    zlcf->mode_file = cf->conf_file->file.name.data;
    zlcf->mode_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/*
 * "zkcredit_redis_auth file": the file holds "password" or "user password"
 * on its first line (Redis 6 ACL users), readable by its owner only, so
 * that the secret stays out of nginx.conf.
 */
static char *
ngx_http_zkcredit_redis_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_zkcredit_main_conf_t *zmcf =
        static_cast<ngx_http_zkcredit_main_conf_t *>(conf);

    u_char           *p, *end, *space;
    ngx_str_t        *value, name, text;

    if (zmcf->redis_password.data != NULL) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);
    name = value[1];

    if (ngx_http_zkcredit_read_secret(cf, &name, &text, "redis credentials")
        != NGX_OK)
    {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    end = ngx_strlchr(text.data, text.data + text.len, '\n');
    if (end == NULL) {
        end = text.data + text.len;
    }
    if (end > text.data && end[-1] == '\r') {
        end--;
    }

    space = ngx_strlchr(text.data, end, ' ');
    p = (space != NULL) ? space + 1 : text.data;

    if (p == end || (space != NULL && space == text.data)) {
        sodium_memzero(text.data, text.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis credentials \"%V\" must hold \"password\" "
                           "or \"user password\"", &name);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    /* kept for reconnections, in the configuration's pool */
    zmcf->redis_password.len = end - p;
    zmcf->redis_password.data = static_cast<u_char *>(
        ngx_pnalloc(cf->pool, zmcf->redis_password.len));

    if (space != NULL) {
        zmcf->redis_user.len = space - text.data;
        zmcf->redis_user.data = static_cast<u_char *>(
            ngx_pnalloc(cf->pool, zmcf->redis_user.len));
    }

    if (zmcf->redis_password.data == NULL
        || (space != NULL && zmcf->redis_user.data == NULL))
    {
        sodium_memzero(text.data, text.len);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    ngx_memcpy(zmcf->redis_password.data, p, zmcf->redis_password.len);
    if (space != NULL) {
        ngx_memcpy(zmcf->redis_user.data, text.data, zmcf->redis_user.len);
    }

    sodium_memzero(text.data, text.len);

    return NGX_CONF_OK;
}


/* the discovery document's location; the challenge points to it */
static char *
ngx_http_zkcredit_discovery(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_zkcredit_main_conf_t  *zmcf;

    clcf = static_cast<ngx_http_core_loc_conf_t *>(
               ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_conf_get_module_main_conf(cf, ngx_http_zkcredit_module));

    if (zmcf->discovery_url.len) {
        return const_cast<char *>("is duplicate: one discovery document "
                                  "describes every deployment");
    }

    if (!ngx_http_zkcredit_plain_text(&clcf->name, 0x21)) {
        return const_cast<char *>("needs a location named by a plain path");
    }

    clcf->handler = ngx_http_zkcredit_discovery_handler;
    zmcf->discovery_url = clcf->name;

    return NGX_CONF_OK;
}


/*
 * Values that go into JSON and an RFC 9110 quoted-string as they are:
 * printable ASCII from "lowest" up, without quotes or backslashes.
 */
static char *
ngx_http_zkcredit_check_text(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t                      *value;
    ngx_http_zkcredit_text_post_t  *text;

    text = static_cast<ngx_http_zkcredit_text_post_t *>(post);
    value = static_cast<ngx_str_t *>(data);

    if (!ngx_http_zkcredit_plain_text(value, text->lowest)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %s \"%V\": printable ASCII without %s"
                           "quotes or backslashes expected", text->what, value,
                           text->lowest > ' ' ? "spaces, " : "");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;
}


/*
 * The deposit contract as CAIP-10 writes an account: "eip155:", the chain id
 * in decimal, ":", and the address as 0x and 40 hex digits.
 */
static char *
ngx_http_zkcredit_check_contract(ngx_conf_t *cf, void *post, void *data)
{
    u_char     *p, *last, *colon;
    ngx_str_t  *value;

    value = static_cast<ngx_str_t *>(data);
    p = value->data;
    last = p + value->len;

    if (value->len < sizeof("eip155:1:0x") - 1 + 40
        || ngx_strncmp(p, "eip155:", sizeof("eip155:") - 1) != 0)
    {
        goto invalid;
    }

    p += sizeof("eip155:") - 1;
    colon = static_cast<u_char *>(ngx_strlchr(p, last, ':'));

    if (colon == NULL || colon == p || colon - p > 19 || *p == '0'
        || ngx_atoof(p, colon - p) == NGX_ERROR
        || last - colon != 1 + 2 + 40 || colon[1] != '0' || colon[2] != 'x')
    {
        goto invalid;
    }

    for (p = colon + 3; p < last; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')
              || (*p >= 'A' && *p <= 'F')))
        {
            goto invalid;
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid deposit contract \"%V\": "
                       "\"eip155:<chain id>:0x<40 hex digits>\" expected",
                       value);
    return static_cast<char *>(NGX_CONF_ERROR);
}
