# The test pattern of vtvisor's system tests: N bytes that are the same
# everywhere, cheap to make with busybox, and never repeat at any offset.
# Sourced by the guest's /init (installed as /lib/vtvisor/pattern.sh) and by
# tools/mkdisk.sh on the host, so a file written on one side can be checked
# on the other.  POSIX sh; safe under `set -eu`.
#
#   pattern_file FILE N
#
# writes FILE: blocks "vtvisor block I\n" followed by the output of
# `seq 1 12000` (60894 bytes), for I = 1, 2, ..., cut to N bytes.  The same
# in Python:
#
#   base = "".join(f"{i}\n" for i in range(1, 12001)).encode()
#   out, i = b"", 0
#   while len(out) < n:
#       i += 1
#       out += f"vtvisor block {i}\n".encode() + base
#   out = out[:n]
pattern_file() {
        _pf_base=$1.base
        seq 1 12000 >"$_pf_base"
        _pf_bs=$(wc -c <"$_pf_base")
        _pf_i=0
        _pf_have=0
        : >"$1"
        while [ "$_pf_have" -lt "$2" ]; do
                _pf_i=$((_pf_i + 1))
                {
                        echo "vtvisor block $_pf_i"
                        cat "$_pf_base"
                } >>"$1"
                # "vtvisor block " is 14 bytes, then the digits and "\n".
                _pf_have=$((_pf_have + 15 + ${#_pf_i} + _pf_bs))
        done
        truncate -s "$2" "$1"
        rm -f "$_pf_base"
}
