#!/bin/bash
# Runs nginx-dev's configure the way Debian's nginx_mod build system does, so
# the module's signature matches the installed /usr/sbin/nginx.
#   ngx_configure.sh NGX_SRC_DIR BUILD_DIR MODULE_DIR LIBVERIFY_LIB ZKCHAIN_LIB EXTRA_CC_OPT EXTRA_LD_OPT
set -euo pipefail
ngx_src=$1 build_dir=$2 module_dir=$3 libverify=$4 zkchain=$5 extra_cc=$6 extra_ld=$7

cd "$ngx_src"
# shellcheck disable=SC1091
. ./conf_flags
cc_opt="$(dpkg-buildflags --get CFLAGS) -fPIC $(dpkg-buildflags --get CPPFLAGS) $extra_cc"
ld_opt="$(dpkg-buildflags --get LDFLAGS) -fPIC $extra_ld"

ZKC_LIBVERIFY_LIB=$libverify ZKC_ZKCHAIN_LIB=$zkchain ./configure \
    --with-cc-opt="$cc_opt" --with-ld-opt="$ld_opt" \
    "${NGX_CONF_FLAGS[@]}" \
    --add-dynamic-module="$module_dir" --builddir="$build_dir" > "$build_dir.configure.log" 2>&1 \
    || { cat "$build_dir.configure.log" >&2; exit 1; }
