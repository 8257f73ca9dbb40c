/*
 * zkcredit: anonymous prepaid API credits verified inside nginx.
 *
 * Shared declarations of the module's translation units. The glue is C++
 * compiled in nginx's C style; nginx's headers carry no extern "C" guards.
 */

#ifndef NGX_HTTP_ZKCREDIT_MODULE_H
#define NGX_HTTP_ZKCREDIT_MODULE_H

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}


#define NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED  402

/* credit amounts are never zero where configured, so zero means "unset" */
#define NGX_HTTP_ZKCREDIT_UNSET_AMOUNT      0

#define NGX_UINT64_LEN                      (sizeof("18446744073709551615") - 1)


typedef struct {
    ngx_flag_t                 enable;
    ngx_str_t                  scope;
    uint64_t                   c_max;
    ngx_str_t                  header_name;
    ngx_str_t                  realm;
} ngx_http_zkcredit_loc_conf_t;


typedef enum {
    NGX_HTTP_ZKCREDIT_PROBLEM_REQUIRED = 0,
    NGX_HTTP_ZKCREDIT_PROBLEM_INVALID
} ngx_http_zkcredit_problem_e;


extern "C" ngx_module_t  ngx_http_zkcredit_module;


/* ngx_http_zkcredit_module.cpp */
ngx_int_t ngx_http_zkcredit_parse_amount(ngx_str_t *text, uint64_t *amount);

/* ngx_http_zkcredit_handler.cpp */
ngx_int_t ngx_http_zkcredit_access_handler(ngx_http_request_t *r);


#endif /* NGX_HTTP_ZKCREDIT_MODULE_H */
