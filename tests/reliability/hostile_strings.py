"""Text a customer (or an agent) might type that is hostile to the pages showing it.

Every payload that would run script, were it ever parsed as markup or evaluated, sets
`window.__pwned` (or its parent's) and most also call `alert`, so a page that shows them
can prove nothing ran: no dialog opened and `window.__pwned` is still undefined.
"""

# 4,000 characters without a space or a hyphen: a pasted hash, a token, a URL with no
# break opportunity (a message's whole allowance).
LONG_WORD = ("Lw" + "0123456789abcdefghij" * 200)[:4000]
LONG_MARKER = LONG_WORD[:40]

HOSTILE_STRINGS = {
    "script": "<script>window.__pwned=1;alert('script')</script>",
    "img_onerror": "<img src=x onerror=\"window.__pwned=1;alert('img')\">",
    "svg_onload_breakout": "\"><svg onload=\"window.__pwned=1;alert('svg')\">",
    "single_quote_breakout": "'><img src=x onerror=window.__pwned=1>",
    "textarea_breakout": "</textarea><img src=x onerror=window.__pwned=1>",
    "title_breakout": "</title><script>window.__pwned=1</script>",
    "close_script": "</script><script>window.__pwned=1;alert('close')</script>",
    "javascript_url": "javascript:window.__pwned=1;alert('url')",
    "a_javascript": "<a href=javascript:window.__pwned=1>click me</a>",
    "iframe_srcdoc": "<iframe srcdoc=\"<script>parent.__pwned=1</script>\"></iframe>",
    "style_block": "<style>body{display:none!important}/*__pwned*/</style>",
    "html_comment": "<!-- an unclosed comment",
    "django_variable": "{{7*7}} {{ request.user }} {{ settings.SECRET_KEY }}",
    "django_tag": "{% debug %}{% now 'Y' %}{% csrf_token %}",
    "js_template": "${7*7} `${alert('tpl')}` #{7*7}",
    "markdown_link": "[click](javascript:window.__pwned=1)",
    "markdown_image": "![x](javascript:window.__pwned=1) ![y](x\" onerror=\"window.__pwned=1)",
    "entities": "&lt;b&gt;bold&lt;/b&gt; &amp;amp; &#60;script&#62; &quot;q&quot;",
    "rtl_override": "invoice\u202efdp.exe \u202dback",
    "zero_width": "zero\u200bwidth\u200cnon\u200djoin\ufeffer",
    "emoji_astral": "\U0001F600 \U0001F469\u200d\U0001F469\u200d\U0001F467 \U0001D518\U0001D52B\U0001D526 \U0001F3F3\ufe0f\u200d\U0001F308",
    "combining_marks": "Z\u0334\u0321\u032a\u032b\u0314a\u0336\u034d\u030dl\u0338\u0330\u0300g\u0335\u0323\u0308o\u0337\u032f\u0350",
    "crlf_header": "hello\r\nBcc: victim@example.com\r\nSubject: injected",
    "sql_quotes": "'; DROP TABLE chat_message; -- \" OR 1=1 --",
    "null": "null",
    "undefined": "undefined",
}

# Short enough for a customer's name (120), a product or customer ID (120), an agent's
# display name (80): each carries several payloads at once.
NAME = "\"><svg onload=window.__pwned=1> {{7*7}} \u202eRTL \U0001F600"
CUSTOMER_ID = "'; DROP TABLE x; --<!--"
PRODUCT_ID = "</textarea><img src=x onerror=window.__pwned=1>"
AGENT_NAME = "<img src=x onerror=window.__pwned=1>Ag${7*7}"
# An email Django and the browser's type=email both accept, with its local part hostile.
EMAIL = "o'brien+{{7*7}}${7*7}/=?^_`{|}~@example.com"


def joined(limit: int) -> str:
    """As many payloads as fit in `limit` characters, one per line."""
    text = ""
    for payload in HOSTILE_STRINGS.values():
        candidate = f"{text}\n{payload}" if text else payload
        if len(candidate) > limit:
            break
        text = candidate
    return text


def normalized(text: str) -> str:
    """Text as compared on a page: whitespace differs between a textarea, a <br> and a
    text node (CRLF becomes LF when HTML is parsed), so it is left out on both sides."""
    return "".join(text.split())
