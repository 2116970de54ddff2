# Turn Documentation/reftable.1.md into the man page reftable.1.
# It knows only the Markdown that page uses: a "% TITLE(1) ..." line,
# # and ## headings, paragraphs, 4-space indented examples, `code`,
# **bold** and *italic*. Run: awk -f cli/md2man.awk reftable.1.md
function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	return s
}
function inline(s,   out, c, i, n, mode) {
	s = esc(s)
	out = ""
	n = length(s)
	mode = ""
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "`") {
			out = out (mode == "code" ? "\\fR" : "\\fB")
			mode = (mode == "code" ? "" : "code")
		} else if (mode != "code" && substr(s, i, 2) == "**") {
			out = out (mode == "bold" ? "\\fR" : "\\fB")
			mode = (mode == "bold" ? "" : "bold")
			i++
		} else if (mode != "code" && c == "*") {
			out = out (mode == "it" ? "\\fR" : "\\fI")
			mode = (mode == "it" ? "" : "it")
		} else {
			out = out c
		}
	}
	if (out ~ /^[.']/)
		out = "\\&" out
	return out
}
BEGIN { in_ex = 0; para = 0 }
/^% / {
	split($0, a, " ")
	name = a[2]; sub(/\(1\)/, "", name)
	printf(".TH %s 1 \"\" \"reftable %s\" \"User Commands\"\n", name, a[4])
	next
}
/^    / {
	if (!in_ex) { print ".PP"; print ".RS 4"; print ".nf"; in_ex = 1 }
	line = substr($0, 5)
	line = esc(line)
	if (line ~ /^[.']/) line = "\\&" line
	print line
	next
}
{
	if (in_ex) { print ".fi"; print ".RE"; in_ex = 0 }
}
/^## / { print ".SS \"" inline(substr($0, 4)) "\""; para = 0; next }
/^# / { print ".SH " toupper(substr($0, 3)); para = 0; next }
/^$/ { para = 1; next }
{
	if (para) { print ".PP"; para = 0 }
	print inline($0)
}
END { if (in_ex) { print ".fi"; print ".RE" } }
