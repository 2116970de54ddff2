/* Just enough JSON writing for --json: strings need escaping, the rest
 * is printf. */

#include <string.h>

#include "cli.h"

/* Length of a valid UTF-8 sequence at s (at most len bytes), else 0. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void json_string(struct sbuf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	sbuf_addch(out, '"');
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		size_t n;
		if (c == '"' || c == '\\') {
			sbuf_addch(out, '\\');
			sbuf_addch(out, (char)c);
			i++;
		} else if (c == '\n') {
			sbuf_addstr(out, "\\n");
			i++;
		} else if (c == '\t') {
			sbuf_addstr(out, "\\t");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			sbuf_addf(out, "\\u%04x", c);
			i++;
		} else if ((n = utf8_len(p + i, len - i))) {
			sbuf_add(out, p + i, n);
			i += n;
		} else {
			sbuf_addstr(out, "\\ufffd");
			i++;
		}
	}
	sbuf_addch(out, '"');
}

void json_str(struct sbuf *out, const char *s)
{
	if (!s)
		sbuf_addstr(out, "null");
	else
		json_string(out, s, strlen(s));
}
