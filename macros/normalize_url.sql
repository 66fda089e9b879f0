{#- URL normalisation: one SQL expression, documented step by step in _macros.yml so that
    journeys/urls.py can replicate it exactly. Every step is a plain regex or string function. -#}

{% macro url_query_allowlist_regex() -%}
    {#- The var `journeys_url_query_allowlist` as an RE2 alternation of escaped, lower-case parameter names;
        empty when no parameter is kept. -#}
    {%- set names = [] -%}
    {%- for name in var('journeys_url_query_allowlist', []) -%}
        {%- do names.append(modules.re.escape(name | string | lower)) -%}
    {%- endfor -%}
    {{ return(names | join('|')) }}
{%- endmacro %}


{% macro email_regex() -%}
    {#- An address-like token, in any script: a local part made of any characters but separators
        (whitespace, `@,;:<>()[]"/?&#=`), `@` written plainly or percent-encoded once or more
        (`%40`, `%2540`, ...), and a domain: a bracketed address literal (`[10.0.0.1]`),
        `localhost`, or dot-separated labels ending in two or more characters that are not
        digits. -#}
    {%- set token = '[^\\t\\n\\r @,;:<>()\\[\\]"/?&#=' -%}
    {{ return(
        token ~ ']+(@|%(25)*40)(\\[[^\\]\\t\\n\\r ]*\\]|localhost|'
        ~ token ~ '.]+(\\.' ~ token ~ '.]+)*\\.' ~ token ~ '.0-9_%-]{2,})'
    ) }}
{%- endmacro %}


{% macro redact_emails(value) -%}
    {#- Replaces anything that looks like an e-mail address by the literal `redacted-email`. -#}
    {{ customer_journeys.regexp_replace_all(
        value, customer_journeys.regex_literal(customer_journeys.email_regex()), "'redacted-email'"
    ) }}
{%- endmacro %}


{% macro normalize_url(raw_url) -%}
    {%- set lowered -%}
        lower(nullif(trim({{ raw_url }}), ''))
    {%- endset -%}

    {#- 1. unwrap translate-proxy URLs: the page's own URL is the `u` query parameter -#}
    {%- set unwrapped -%}
        case
            when {{ customer_journeys.regexp_matches(
                lowered, customer_journeys.regex_literal(
                    "^(https?://)?translate\\.googleusercontent\\.com/[^#]*[?&]u=[^&#]"
                )
            ) }}
                then {{ customer_journeys.percent_decode(
                    customer_journeys.regexp_extract_group(lowered, customer_journeys.regex_literal("[?&]u=([^&#]*)"), 1)
                ) }}
            else {{ lowered }}
        end
    {%- endset -%}

    {#- 2. drop the fragment and the scheme -#}
    {%- set without_scheme -%}
        {{ customer_journeys.regexp_replace_all(
            customer_journeys.regexp_replace_all(unwrapped, customer_journeys.regex_literal("#.*$"), "''"),
            customer_journeys.regex_literal("^([a-z][a-z0-9+.-]*:)?//"), "''"
        ) }}
    {%- endset -%}

    {#- 3. host without `www.`; path without trailing slashes (root stays `/`) -#}
    {%- set host -%}
        {{ customer_journeys.regexp_replace_all(
            customer_journeys.regexp_extract_group(without_scheme, customer_journeys.regex_literal("^([^/?]*)"), 1),
            customer_journeys.regex_literal("^www\\."), "''"
        ) }}
    {%- endset -%}
    {%- set path -%}
        coalesce(nullif({{ customer_journeys.regexp_replace_all(
            customer_journeys.regexp_extract_group(without_scheme, customer_journeys.regex_literal("^[^/?]*([^?]*)"), 1),
            customer_journeys.regex_literal("/+$"), "''"
        ) }}, ''), '/')
    {%- endset -%}

    {#- 4. query: only the parameters named in var('journeys_url_query_allowlist'), in their order; every
        piece is wrapped as `&piece&` so that neighbours never share a separator -#}
    {%- set allowed = customer_journeys.url_query_allowlist_regex() -%}
    {%- if allowed -%}
    {%- set query_wrapped -%}
        '&' || replace(
            {{ customer_journeys.regexp_extract_group(without_scheme, customer_journeys.regex_literal("^[^?]*\\?(.*)$"), 1) }},
            '&', '&&'
        ) || '&'
    {%- endset -%}
    {%- set query -%}
        {{ customer_journeys.list_join(
            customer_journeys.regexp_extract_all_group(
                query_wrapped, customer_journeys.regex_literal("&((" ~ allowed ~ ")(=[^&]*)?)&"), 1
            ),
            "'&'"
        ) }}
    {%- endset -%}
    {%- else -%}
    {%- set query = "''" -%}
    {%- endif %}

    {#- 5. reassemble, then redact e-mail addresses -#}
    {%- set assembled -%}
        {{ host }} || {{ path }} || coalesce('?' || nullif({{ query }}, ''), '')
    {%- endset -%}
    {{ customer_journeys.redact_emails(assembled) }}
{%- endmacro %}
