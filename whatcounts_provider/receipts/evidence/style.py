"""The pages' one stylesheet, inlined into each page: the file must read the same offline, years on.

System fonts only (no web font to fetch). The print rules fit A4 and Letter alike: no fixed page
size, narrow margins, table headers repeated on each page, rows never split, colours kept (a red
"LATE" must stay red on paper).
"""

from __future__ import annotations

CSS = """
:root { --ok: #1a7f37; --bad: #b42318; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2328; margin: 0; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
p { margin: 6px 0; }
.meta { color: var(--muted); margin: 0 0 14px; }
.phone { font-variant-numeric: tabular-nums; letter-spacing: .02em; }
.phone, .nowrap { white-space: nowrap; overflow-wrap: normal; }
.summary { border: 1px solid var(--line); border-left: 6px solid var(--ok); background: #f6f8fa;
           padding: 10px 16px; margin: 14px 0; }
.summary ul { margin: 4px 0; padding-left: 20px; }
.summary li { margin: 4px 0; }
.summary li.open, .summary li.late { color: var(--bad); font-weight: 600; }
.integrity { border: 1px solid var(--line); border-left: 6px solid var(--muted); padding: 8px 14px; }
.integrity.intact { border-left-color: var(--ok); background: #eefbf1; }
.integrity.problems { border-left-color: var(--bad); background: #fff1f0; }
.integrity .verdict { font-weight: 700; }
.intact .verdict { color: var(--ok); }
.problems .verdict { color: var(--bad); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
         border: 1px solid currentColor; white-space: nowrap; }
.badge.honoured { color: var(--ok); }
.badge.open, .badge.late { color: var(--bad); }
.badge.not_sent { color: var(--muted); }
.late-mark { color: var(--bad); font-weight: 700; }
.open-mark { color: var(--bad); font-weight: 600; }
.ok-mark { color: var(--ok); }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 5px 7px; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.late td, tr.open td { background: #fff8f7; }
blockquote.message { margin: 0 0 4px; padding: 2px 8px; border-left: 3px solid var(--line);
                     white-space: pre-wrap; font: 12px ui-monospace, Menlo, Consolas, monospace; }
.small { font-size: 12px; }
table.fixed { table-layout: fixed; }
dl.ids { margin: 0; }
dl.ids dt { color: var(--muted); font-size: 12px; }
dl.ids dd { margin: 0 0 2px; font-variant-numeric: tabular-nums; }
.stats { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 6px 0; }
.stats div { min-width: 110px; }
.stats b { display: block; font-size: 20px; }
figure { margin: 8px 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; }
footer { margin-top: 28px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
         padding-top: 8px; }
@media print {
  @page { margin: 12mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  table { font-size: 8.5pt; }
  thead { display: table-header-group; }
  tr, .summary, .integrity, figure { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""
