/*
 * zkcredit: configuration, directives and module registration.
 */

#include "ngx_http_zkcredit_module.h"


static void *ngx_http_zkcredit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_zkcredit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_zkcredit_scope(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_c_max(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_zkcredit_check_realm(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_zkcredit_init(ngx_conf_t *cf);


static ngx_conf_post_t  ngx_http_zkcredit_realm_post = {
    ngx_http_zkcredit_check_realm
};


static ngx_command_t  ngx_http_zkcredit_commands[] = {

    { ngx_string("zkcredit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, enable),
      NULL },

    { ngx_string("zkcredit_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_scope,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, scope),
      NULL },

    { ngx_string("zkcredit_c_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_c_max,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("zkcredit_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_zkcredit_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, header_name),
      NULL },

    { ngx_string("zkcredit_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_zkcredit_loc_conf_t, realm),
      &ngx_http_zkcredit_realm_post },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_zkcredit_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_zkcredit_init,                /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

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
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};

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
     *     conf->scope = { 0, NULL };
     *     conf->header_name = { 0, NULL };
     *     conf->realm = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->c_max = NGX_HTTP_ZKCREDIT_UNSET_AMOUNT;

    return conf;
}


static char *
ngx_http_zkcredit_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_zkcredit_loc_conf_t *prev =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(parent);
    ngx_http_zkcredit_loc_conf_t *conf =
        static_cast<ngx_http_zkcredit_loc_conf_t *>(child);

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->scope, prev->scope, "");
    if (conf->c_max == NGX_HTTP_ZKCREDIT_UNSET_AMOUNT) {
        conf->c_max = prev->c_max;
    }
    ngx_conf_merge_str_value(conf->header_name, prev->header_name,
                             "ZKCredit-Credential");
    ngx_conf_merge_str_value(conf->realm, prev->realm, "zkcredit");

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    if (conf->scope.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"zkcredit_scope\" must be set where "
                           "\"zkcredit\" is on");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (conf->c_max == NGX_HTTP_ZKCREDIT_UNSET_AMOUNT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"zkcredit_c_max\" must be set where "
                           "\"zkcredit\" is on");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;
}


/*
 * The scope is a public input of the proof: a decimal field element below
 * the BN254 scalar modulus, written canonically (no sign, no leading zeros).
 */
static char *
ngx_http_zkcredit_scope(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t   *value;
    ngx_uint_t   i;

    value = static_cast<ngx_str_t *>(cf->args->elts);

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] < '0' || value[1].data[i] > '9') {
            break;
        }
    }

    if (value[1].len == 0 || i != value[1].len
        || (value[1].len > 1 && value[1].data[0] == '0')
        || value[1].len > 77)
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


/* the realm is sent as an RFC 9110 quoted-string without escapes */
static char *
ngx_http_zkcredit_check_realm(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t   *realm;
    ngx_uint_t   i;

    realm = static_cast<ngx_str_t *>(data);

    for (i = 0; i < realm->len; i++) {
        if (realm->data[i] < 0x20 || realm->data[i] > 0x7e
            || realm->data[i] == '"' || realm->data[i] == '\\')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid realm \"%V\": printable ASCII "
                               "without quotes or backslashes expected",
                               realm);
            return static_cast<char *>(NGX_CONF_ERROR);
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_zkcredit_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = static_cast<ngx_http_core_main_conf_t *>(
               ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));

    h = static_cast<ngx_http_handler_pt *>(
            ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers));
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_zkcredit_access_handler;

    return NGX_OK;
}
