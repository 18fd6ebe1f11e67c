/*
 * libFuzzer harness: the alert prefilter against PCRE2.  The input is a
 * pattern, a NUL byte, then a string.  Checks: where the pattern (as the
 * daemon compiles it) matches the string, the prefilter lets its rule
 * through; and the vector and the byte-at-a-time scans agree.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "daemon/alert/prefilter.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prefilter pf;
	static pcre2_match_data *md;
	const uint8_t *nul = memchr(data, '\0', size);
	const char *s;
	size_t len;
	pcre2_code *re;
	PCRE2_SIZE off;
	uint32_t fast;
	int err, avx2;

	if (nul == NULL)
		return 0;
	if (md == NULL && (md = pcre2_match_data_create(1, NULL)) == NULL)
		return 0;
	s = (const char *)nul + 1;
	len = size - (size_t)(nul + 1 - data);
	re = pcre2_compile((PCRE2_SPTR)data, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
	if (re == NULL)
		return 0;
	pf_init(&pf);
	pf_add(&pf, 3, (const char *)data);
	fast = pf_scan(&pf, s, len);
	assert(fast == pf_scan_slow(&pf, s, len));
	avx2 = pf.avx2;
	pf.avx2 = 0;
	assert(pf_scan(&pf, s, len) == fast);
	pf.avx2 = avx2;
	if (pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL) >= 0)
		assert(fast == 1u << 3);
	pcre2_code_free(re);
	return 0;
}
