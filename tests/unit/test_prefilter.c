/*
 * Unit tests of the alert prefilter: the literals read from patterns, and
 * the scans.  The property test holds it against PCRE2 itself: whenever a
 * pattern matches a string, the prefilter must let its rule through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "daemon/alert/prefilter.h"

/* PATTERN gives exactly the literals of WANT ("" ends it), or none. */
static void
check_literals(const char *pattern, const char *const *want)
{
	char got[8][PF_LIT_MAX + 1];
	int i, n;

	n = pf_literals(pattern, got, 8);
	for (i = 0; want[i] != NULL && want[i][0] != '\0'; i++) {
		if (i >= n)
			fail_msg("%s: %d literal(s), wanted more", pattern, n);
		if (strcmp(got[i], want[i]) != 0)
			fail_msg("%s: literal %d is \"%s\", wanted \"%s\"",
			    pattern, i, got[i], want[i]);
	}
	if (n != i)
		fail_msg("%s: %d literal(s), wanted %d", pattern, n, i);
}

#define LITS(p, ...)	do { \
	static const char *const w_[] = { __VA_ARGS__, "" }; \
	check_literals(p, w_); \
} while (0)
#define NONE(p)		LITS(p, "")

static void
test_literals_of_common_rules(void **state)
{
	(void)state;
	LITS("ERROR [0-9]{3,}", "ERROR ");
	LITS("segfault|kernel panic|Out of memory", "segfault",
	    "kernel panic", "Out of memory");
	LITS("rm -rf /|mkfs\\.|dd if=/dev/", "rm -rf /", "mkfs.",
	    "dd if=/dev/");
	LITS("sudo: .*COMMAND=", "COMMAND=");
	LITS("Failed password for (invalid user )?\\w+",
	    "Failed password for ");
	LITS("^BOOM\\d+$", "BOOM");
	LITS("a\\.b\\*c\\\\d", "a.b*c\\d");
	LITS("foo(bar|baz)qux", "foo");
	LITS("(?:x+)yz|(?<n>a)bc", "yz", "bc");
	LITS("[]x]abc|[^]|]def", "abc", "def");
	LITS("\\bword\\b", "word");
}

static void
test_quantifiers_drop_what_may_be_absent(void **state)
{
	(void)state;
	LITS("colou?r", "colo");
	LITS("abc+d", "abc");		/* c is there, then maybe more c */
	LITS("abcd*e", "abc");
	LITS("ab{0}cde", "cde");
	LITS("ab{0,2}cde", "cde");
	LITS("xyz{2,}w", "xyz");
	LITS("xyz{1}w", "xyz");
	LITS("ab+?cd", "ab");		/* lazy: b still there */
	LITS("ab*+cd", "cd");		/* possessive: b may be absent */
	LITS("(abc)?de", "de");
	LITS("[a-z]{3}de", "de");
}

static void
test_unsure_patterns_give_none(void **state)
{
	(void)state;
	NONE("");
	NONE("a");
	NONE("ab*c");			/* only one-byte runs */
	NONE("abc|");			/* matches the empty string */
	NONE("abc|x");
	NONE("(?:abc)");
	NONE("(?i)error");		/* caseless */
	NONE("err(?i)or");
	NONE("(?x) a b c");		/* extended: spaces ignored */
	NONE("(?-i)abc");
	NONE("(?^)abc");
	NONE("\\Qa.b\\E");
	NONE("abc\\E");
	NONE("(*UTF)abc");
	NONE("ab(*ACCEPT)cd");
	NONE("x(?#comment)abc");
	NONE("\\x41BC");		/* the 4 and 1 are not text */
	NONE("\\p{L}abc");
	NONE("\\cXabc");
	NONE("(a)\\1bc");
	NONE("[[:alpha:]]abc");
	NONE("ab{,3}cd");		/* PCRE2 10.43 reads {,3} as 0..3 */
	NONE("ab{x}cd");
	NONE("*abc");
	NONE("{2}abc");
	NONE("abc)");
	NONE("caf\xc3\xa9");		/* non-ASCII */
	NONE("(abc");
	NONE("[abc");
}

static void
test_long_literals_are_cut(void **state)
{
	char got[2][PF_LIT_MAX + 1], pat[100];

	(void)state;
	memset(pat, 'q', 60);
	pat[60] = '\0';
	assert_int_equal(pf_literals(pat, got, 2), 1);
	assert_int_equal(strlen(got[0]), PF_LIT_MAX);
	assert_int_equal(pf_literals("aa|bb|cc", got, 2), 0);	/* too many */
}

/* Both vector widths and the one-pair-at-a-time scan agree on S. */
static uint32_t
scan_all(struct prefilter *pf, const char *s, size_t len)
{
	uint32_t slow = pf_scan_slow(pf, s, len), fast;
	int avx2 = pf->avx2, ssse3 = pf->ssse3;

	fast = pf_scan(pf, s, len);
	assert_int_equal(fast, slow);
	pf->avx2 = 0;
	assert_int_equal(pf_scan(pf, s, len), slow);
	pf->ssse3 = 0;
	assert_int_equal(pf_scan(pf, s, len), slow);
	pf->avx2 = avx2;
	pf->ssse3 = ssse3;
	return fast;
}

static void
test_scan_finds_literals_anywhere(void **state)
{
	static struct prefilter pf;
	char buf[200];
	size_t len, at;

	(void)state;
	pf_init(&pf);
	assert_int_equal(pf_add(&pf, 0, "segfault|kernel panic"), 1);
	assert_int_equal(pf_add(&pf, 3, "ERROR [0-9]{3,}"), 1);
	assert_int_equal(pf_add(&pf, 5, "(?i)x"), 0);
	assert_int_equal(pf.always, 1u << 5);
	assert_int_equal(scan_all(&pf, "", 0), 1u << 5);
	/* Every length and every place, across the 16- and 32-byte blocks. */
	for (len = 0; len <= 100; len++) {
		for (at = 0; at + 5 <= len; at++) {
			memset(buf, 'x', len);
			memcpy(buf + at, "ERROR", 5);
			buf[len] = '\0';
			/* "ERROR" without its space is not "ERROR ". */
			assert_int_equal(scan_all(&pf, buf, len), 1u << 5);
			if (at + 6 > len)
				continue;
			buf[at + 5] = ' ';
			assert_int_equal(scan_all(&pf, buf, len),
			    1u << 5 | 1u << 3);
			/* Cut one byte short: not there. */
			assert_int_equal(scan_all(&pf, buf, at + 5), 1u << 5);
		}
	}
	len = (size_t)snprintf(buf, sizeof(buf), "%60skernel panic", "");
	assert_int_equal(scan_all(&pf, buf, len), 1u << 5 | 1u);
}

static void
test_rules_sharing_a_literal(void **state)
{
	static struct prefilter pf;
	const char *s = "sshd: Failed password for root";

	(void)state;
	pf_init(&pf);
	pf_add(&pf, 1, "Failed password");
	pf_add(&pf, 2, "Failed password|Invalid user");
	pf_add(&pf, 4, "Invalid user");
	assert_int_equal(pf.nlit, 2);
	assert_int_equal(scan_all(&pf, s, strlen(s)), 1u << 1 | 1u << 2);
	assert_int_equal(scan_all(&pf, "Invalid user x", 14),
	    1u << 2 | 1u << 4);
}

/*
 * Issue 16, item 1: patterns with groups.  Their literals stop at a group
 * (what is in one is not read), and the rule still goes through on a
 * record it matches, PCRE2 says so (0, "ovector too small", is a match).
 */
static void
test_groups_keep_their_rules(void **state)
{
	static const struct {
		const char *pattern, *record;
	} cases[] = {
		{ "x(a)", "User input: xa" },
		{ "x(a|b)", "User input: xb" },
		{ "disk .* (9[0-9]|100)%", "User input: disk /srv 97% full" },
		{ "disk .* (9[0-9]|100)%", "disk / 100%" },
		{ "ab((cd)|e(f))gh", "xx abefgh" },
		{ "ab((cd)|e(f))gh", "abcdgh" },
		{ "used (?<pct>9[0-9])% now", "disk used 93% now" },
		{ "used (?'pct'9[0-9])% now", "disk used 93% now" },
		{ "used (?P<pct>9[0-9])% now", "disk used 93% now" },
		{ "(?<w>ab)cd\\k<w>", "abcdab" },
		{ "(segfault|panic) in (\\w+)", "panic in init" },
	};
	static struct prefilter pf;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	pcre2_code *re;
	PCRE2_SIZE off;
	size_t i;
	int err;

	(void)state;
	assert_non_null(md);
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		re = pcre2_compile((PCRE2_SPTR)cases[i].pattern,
		    PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
		assert_non_null(re);
		if (pcre2_match(re, (PCRE2_SPTR)cases[i].record,
		    strlen(cases[i].record), 0, 0, md, NULL) < 0)
			fail_msg("/%s/ does not match \"%s\"", cases[i].pattern,
			    cases[i].record);
		pcre2_code_free(re);
		pf_init(&pf);
		pf_add(&pf, 9, cases[i].pattern);
		if (scan_all(&pf, cases[i].record, strlen(cases[i].record)) !=
		    1u << 9)
			fail_msg("/%s/ matches \"%s\" but was filtered out",
			    cases[i].pattern, cases[i].record);
	}
	pcre2_match_data_free(md);
}

static void
test_literals_of_patterns_with_groups(void **state)
{
	(void)state;
	NONE("x(a)");			/* one byte outside the group */
	NONE("x(a|b)");
	LITS("(segfault|panic) in", " in");
	LITS("disk .* (9[0-9]|100)%", "disk ");
	LITS("ab((cd)|e(f))gh", "ab");
	LITS("abc((cd)|e(f))gh", "abc");
	LITS("ab((cd)|e(f))ghi", "ghi");
	LITS("used (?<pct>9[0-9])% now", "used ");
	LITS("used (?'pct'9[0-9])% now", "used ");
	LITS("used (?P<pct>9[0-9])% now", "used ");
	LITS("(?P<pct>9[0-9])% now", "% now");
	NONE("(?<w>ab)cd\\k<w>");	/* a back reference: unsure */
}

/*
 * The property: a random pattern that PCRE2 compiles, tried on random
 * strings made of the same pieces.  Where PCRE2 finds a match, the
 * prefilter must have let the rule through; and the scans must agree.
 */
static const char *const pieces[] = {
	"a", "b", "ab", "ba", "c", "abc", "|", "(", ")", "(?:", "*", "+",
	"?", "{2}", "{0,1}", "{1,}", ".", "[ab]", "[^a]", "\\d", "\\.",
	"\\b", "^", "$", "1", "-", " ", "ERR", "(?i)", "\\Q", "{",
};

static void
random_text(char *out, size_t max, unsigned *seed, int pattern)
{
	size_t n = 0, k, plen;
	const char *p;
	int i, count = 1 + rand_r(seed) % 8;

	for (i = 0; i < count; i++) {
		k = (size_t)rand_r(seed) % (sizeof(pieces) / sizeof(*pieces));
		p = pieces[k];
		if (!pattern && (p[0] == '\\' || strchr("()|*+?{[^$", p[0])))
			p = (rand_r(seed) & 1) ? "ab" : "c.1";
		plen = strlen(p);
		if (n + plen >= max)
			break;
		memcpy(out + n, p, plen);
		n += plen;
	}
	out[n] = '\0';
}

static void
test_never_stops_a_match(void **state)
{
	static struct prefilter pf;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	pcre2_code *re;
	PCRE2_SIZE off;
	char pat[64], subj[64];
	unsigned seed = 42;
	int i, j, err, filtered = 0, matched = 0;

	(void)state;
	assert_non_null(md);
	for (i = 0; i < 20000; i++) {
		random_text(pat, sizeof(pat), &seed, 1);
		re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF, &err, &off, NULL);
		if (re == NULL)
			continue;
		pf_init(&pf);
		filtered += pf_add(&pf, 7, pat);
		for (j = 0; j < 30; j++) {
			random_text(subj, sizeof(subj), &seed, 0);
			if (j == 0)	/* the pattern's own text, too */
				snprintf(subj, sizeof(subj), "%s", pat);
			if (pcre2_match(re, (PCRE2_SPTR)subj, strlen(subj), 0,
			    0, md, NULL) < 0)
				continue;
			matched++;
			if (scan_all(&pf, subj, strlen(subj)) != 1u << 7)
				fail_msg("/%s/ matches \"%s\" but was filtered "
				    "out", pat, subj);
		}
		pcre2_code_free(re);
	}
	pcre2_match_data_free(md);
	/* The test means something only if both kinds were seen often. */
	assert_true(filtered > 1000);
	assert_true(matched > 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals_of_common_rules),
		cmocka_unit_test(test_quantifiers_drop_what_may_be_absent),
		cmocka_unit_test(test_unsure_patterns_give_none),
		cmocka_unit_test(test_long_literals_are_cut),
		cmocka_unit_test(test_scan_finds_literals_anywhere),
		cmocka_unit_test(test_rules_sharing_a_literal),
		cmocka_unit_test(test_literals_of_patterns_with_groups),
		cmocka_unit_test(test_groups_keep_their_rules),
		cmocka_unit_test(test_never_stops_a_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
