/*
 * zkcredit: the access-phase handler and its problem responses.
 */

#include "ngx_http_zkcredit_module.h"


typedef struct {
    ngx_str_t  type;
    ngx_str_t  detail;
} ngx_http_zkcredit_problem_t;


/* indexed by ngx_http_zkcredit_problem_e */
static ngx_http_zkcredit_problem_t  ngx_http_zkcredit_problems[] = {
    { ngx_string("urn:zkcredit:problem:credential-required"),
      ngx_string("This resource is paid for with a zkcredit credential, "
                 "and the request carried none.") },
    { ngx_string("urn:zkcredit:problem:credential-invalid"),
      ngx_string("The zkcredit credential was not accepted.") }
};


static ngx_table_elt_t *ngx_http_zkcredit_find_header(ngx_http_request_t *r,
    ngx_str_t *name, ngx_uint_t *count);
static ngx_int_t ngx_http_zkcredit_send_problem(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_problem_e problem);


ngx_int_t
ngx_http_zkcredit_access_handler(ngx_http_request_t *r)
{
    ngx_uint_t                     count;
    ngx_table_elt_t               *credential;
    ngx_http_zkcredit_problem_e    problem;
    ngx_http_zkcredit_loc_conf_t  *lcf;

    lcf = static_cast<ngx_http_zkcredit_loc_conf_t *>(
              ngx_http_get_module_loc_conf(r, ngx_http_zkcredit_module));

    if (!lcf->enable) {
        return NGX_DECLINED;
    }

    credential = ngx_http_zkcredit_find_header(r, &lcf->header_name, &count);

    if (credential == NULL) {
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_REQUIRED;

    } else {
        /*
         * Fail closed: until a credential is verified and its nullifier
         * spent, nothing is served. Duplicates are never merged.
         */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "zkcredit: credential rejected: %s",
                      count > 1 ? "duplicate header" : "not verifiable");
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_INVALID;
    }

    ngx_http_finalize_request(r,
                              ngx_http_zkcredit_send_problem(r, lcf, problem));
    return NGX_DONE;
}


/*
 * nginx 1.22 does not link repeated request headers, so walk the list:
 * the caller must see every copy to reject duplicates.
 */
static ngx_table_elt_t *
ngx_http_zkcredit_find_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_uint_t *count)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *found;

    *count = 0;
    found = NULL;

    part = &r->headers_in.headers.part;
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

        if (h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            (*count)++;
            found = &h[i];
        }
    }

    return found;
}


static ngx_int_t
ngx_http_zkcredit_send_problem(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_problem_e problem)
{
    size_t                        len;
    u_char                       *body, *last;
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_chain_t                   out;
    ngx_table_elt_t              *h;
    ngx_http_zkcredit_problem_t  *p;

    static ngx_str_t  challenge_fmt = ngx_string(
        "ZKCredit realm=\"\", scope=\"\", c_max=\"\"");
    static ngx_str_t  body_fmt = ngx_string(
        "{\"type\":\"\",\"title\":\"Payment Required\",\"status\":402,"
        "\"detail\":\"\",\"header\":\"\",\"scope\":\"\",\"c_max\":}\n");

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    p = &ngx_http_zkcredit_problems[problem];

    h = static_cast<ngx_table_elt_t *>(
            ngx_list_push(&r->headers_out.headers));
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = challenge_fmt.len + lcf->realm.len + lcf->scope.len + NGX_UINT64_LEN;
    h->value.data = static_cast<u_char *>(ngx_pnalloc(r->pool, len));
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.len = ngx_sprintf(h->value.data,
                               "ZKCredit realm=\"%V\", scope=\"%V\", "
                               "c_max=\"%uL\"",
                               &lcf->realm, &lcf->scope, lcf->c_max)
                   - h->value.data;
    r->headers_out.www_authenticate = h;

    h = static_cast<ngx_table_elt_t *>(
            ngx_list_push(&r->headers_out.headers));
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    /* every interpolated value is a JSON-safe token, checked at load */
    len = body_fmt.len + p->type.len + p->detail.len + lcf->header_name.len
          + lcf->scope.len + NGX_UINT64_LEN;
    body = static_cast<u_char *>(ngx_pnalloc(r->pool, len));
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_sprintf(body,
                       "{\"type\":\"%V\",\"title\":\"Payment Required\","
                       "\"status\":402,\"detail\":\"%V\",\"header\":\"%V\","
                       "\"scope\":\"%V\",\"c_max\":%uL}\n",
                       &p->type, &p->detail, &lcf->header_name, &lcf->scope,
                       lcf->c_max);

    r->headers_out.status = NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED;
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
