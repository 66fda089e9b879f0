{#- Which normalised URLs are pages of this site: their host (port dropped) is one of var
    `journeys_site_hosts` or a subdomain of one. Category rules see only these; every other host (IDN,
    punycode, an IPv6 or IPv4 literal, a look-alike) is `other` whatever its path says.
    journeys/urls.py (is_site_url) is the twin. -#}

{% macro url_host(url) -%}
    {#- The host of a normalised URL (text before the first `/` or `?`), without its `:port`;
        an IPv6 literal keeps its brackets. -#}
    {{ customer_journeys.regexp_replace_all(
        customer_journeys.regexp_extract_group(url, "'^([^/?]*)'", 1), "':[0-9]*$'", "''"
    ) }}
{%- endmacro %}


{% macro is_site_url(url) -%}
    {%- set hosts = var('journeys_site_hosts', []) -%}
    {%- if not hosts -%}
        {{ exceptions.raise_compiler_error(
            "dbt var journeys_site_hosts is empty: list the hosts of your site (e.g. [example.com, blog.example.com])"
        ) }}
    {%- endif -%}
    {%- set host = customer_journeys.url_host(url) -%}
    (
        {%- for name in hosts %}
        {%- set name = name | string | lower | trim -%}
        {{ ' or ' if not loop.first }}{{ host }} = '{{ name | replace("'", "''") }}'
        or {{ dbt.right(host, (name | length + 1) | string) }} = '.{{ name | replace("'", "''") }}'
        {%- endfor %}
    )
{%- endmacro %}
