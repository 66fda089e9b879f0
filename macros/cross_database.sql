{#- Engine-specific SQL behind adapter.dispatch: each macro has a `duckdb__` and a `spark__`
    implementation and no fallback, so an adapter without one fails at compile time ("no macro
    named ...") instead of running SQL written for another engine. Where dbt-core ships a
    cross-database macro (dbt.position, dbt.bool_or, dbt.datediff, ...) models call it directly.
    DuckDB regexes are RE2, Spark's are java.util.regex: the patterns this project writes use
    only the syntax both read alike. -#}

{% macro regex_literal(pattern) -%}
    {#- A SQL string literal holding the regex `pattern` exactly as written. Spark's parser
        treats a backslash in a string literal as an escape (`'\s'` reads as `s`), DuckDB's
        does not; every regex literal goes through here. -#}
    {{ return(adapter.dispatch('regex_literal', 'customer_journeys')(pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_literal(pattern) -%}
    '{{ pattern | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__regex_literal(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}


{% macro regexp_matches(value, pattern) -%}
    {#- True when the pattern is found anywhere in the value. -#}
    {{ return(adapter.dispatch('regexp_matches', 'customer_journeys')(value, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_matches(value, pattern) -%}
    regexp_matches({{ value }}, {{ pattern }})
{%- endmacro %}

{% macro spark__regexp_matches(value, pattern) -%}
    ({{ value }} rlike {{ pattern }})
{%- endmacro %}


{% macro regexp_replace_all(value, pattern, replacement) -%}
    {#- Every match replaced (replacements here are plain text, no group references). -#}
    {{ return(adapter.dispatch('regexp_replace_all', 'customer_journeys')(value, pattern, replacement)) }}
{%- endmacro %}

{% macro duckdb__regexp_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}


{% macro regexp_extract_group(value, pattern, group) -%}
    {#- The capture group of the first match; '' when there is no match. -#}
    {{ return(adapter.dispatch('regexp_extract_group', 'customer_journeys')(value, pattern, group)) }}
{%- endmacro %}

{% macro duckdb__regexp_extract_group(value, pattern, group) -%}
    regexp_extract({{ value }}, {{ pattern }}, {{ group }})
{%- endmacro %}

{% macro spark__regexp_extract_group(value, pattern, group) -%}
    regexp_extract({{ value }}, {{ pattern }}, {{ group }})
{%- endmacro %}


{% macro regexp_extract_all_group(value, pattern, group) -%}
    {#- List of capture group `group` of every non-overlapping match, in order. -#}
    {{ return(adapter.dispatch('regexp_extract_all_group', 'customer_journeys')(value, pattern, group)) }}
{%- endmacro %}

{% macro duckdb__regexp_extract_all_group(value, pattern, group) -%}
    regexp_extract_all({{ value }}, {{ pattern }}, {{ group }})
{%- endmacro %}

{% macro spark__regexp_extract_all_group(value, pattern, group) -%}
    regexp_extract_all({{ value }}, {{ pattern }}, {{ group }})
{%- endmacro %}


{% macro list_agg_ordered(value, order_by) -%}
    {#- Aggregate into a list ordered by `order_by` (unique within a group). -#}
    {{ return(adapter.dispatch('list_agg_ordered', 'customer_journeys')(value, order_by)) }}
{%- endmacro %}

{% macro duckdb__list_agg_ordered(value, order_by) -%}
    list({{ value }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__list_agg_ordered(value, order_by) -%}
    {#- collect_list has no order: collect (key, value) pairs, sort them by key, keep values. -#}
    transform(
        array_sort(collect_list(named_struct('sort_key', {{ order_by }}, 'item', {{ value }}))),
        pair -> pair.item
    )
{%- endmacro %}


{% macro list_element(value, position) -%}
    {#- Element at a 1-based position (the first is 1 on every engine); NULL out of range.
        Spark's `[]` is 0-based, so positions never go through `[]` directly. -#}
    {{ return(adapter.dispatch('list_element', 'customer_journeys')(value, position)) }}
{%- endmacro %}

{% macro duckdb__list_element(value, position) -%}
    {{ value }}[{{ position }}]
{%- endmacro %}

{% macro spark__list_element(value, position) -%}
    try_element_at({{ value }}, {{ position }})
{%- endmacro %}


{% macro empty_integer_list() -%}
    {{ return(adapter.dispatch('empty_integer_list', 'customer_journeys')()) }}
{%- endmacro %}

{% macro duckdb__empty_integer_list() -%}
    cast([] as integer[])
{%- endmacro %}

{% macro spark__empty_integer_list() -%}
    cast(array() as array<int>)
{%- endmacro %}


{% macro list_join(value, separator) -%}
    {#- Joins a list of text with a separator. -#}
    {{ return(adapter.dispatch('list_join', 'customer_journeys')(value, separator)) }}
{%- endmacro %}

{% macro duckdb__list_join(value, separator) -%}
    array_to_string({{ value }}, {{ separator }})
{%- endmacro %}

{% macro spark__list_join(value, separator) -%}
    array_join({{ value }}, {{ separator }})
{%- endmacro %}


{% macro percent_decode(value) -%}
    {#- `%XX` escapes decoded as UTF-8; `+` stays `+`; an invalid escape (`%zz`) stays as it is;
        a value whose decoded bytes are not valid UTF-8 is kept as it was (encoded). -#}
    {{ return(adapter.dispatch('percent_decode', 'customer_journeys')(value)) }}
{%- endmacro %}

{% macro duckdb__percent_decode(value) -%}
    {#- url_decode raises on escapes that are not valid UTF-8: such a value is kept encoded. -#}
    coalesce(try(url_decode({{ value }})), {{ value }})
{%- endmacro %}

{% macro spark__percent_decode(value) -%}
    {#- Spark's url_decode is Java's form decoder: `+` becomes a space and a `%` without two hex
        digits fails, so both are escaped first; bytes that are not valid UTF-8 come back as
        U+FFFD, which marks the value to keep encoded. -#}
    {%- set protected = "regexp_replace(replace(" ~ value ~ ", '+', '%2B'), "
        ~ spark__regex_literal('%(?![0-9a-fA-F]{2})') ~ ", '%25')" -%}
    case
        when {{ value }} is null then null
        when instr(url_decode({{ protected }}), '\uFFFD') > 0
            and instr({{ value }}, '\uFFFD') = 0
            then {{ value }}
        else url_decode({{ protected }})
    end
{%- endmacro %}


{% macro try_cast_to(value, type) -%}
    {#- Cast that yields NULL instead of failing on a value that does not convert. -#}
    {{ return(adapter.dispatch('try_cast_to', 'customer_journeys')(value, type)) }}
{%- endmacro %}

{% macro duckdb__try_cast_to(value, type) -%}
    try_cast({{ value }} as {{ type }})
{%- endmacro %}

{% macro spark__try_cast_to(value, type) -%}
    try_cast({{ value }} as {{ type }})
{%- endmacro %}


{% macro minutes_between(earlier, later) -%}
    {#- Minute boundaries crossed from `earlier` to `later` (DuckDB's date_diff('minute', ...)):
        dbt.datediff on Spark rounds seconds up instead and fails on NULL timestamps. -#}
    {{ return(adapter.dispatch('minutes_between', 'customer_journeys')(earlier, later)) }}
{%- endmacro %}

{% macro duckdb__minutes_between(earlier, later) -%}
    date_diff('minute', {{ earlier }}, {{ later }})
{%- endmacro %}

{% macro spark__minutes_between(earlier, later) -%}
    (
        unix_timestamp(date_trunc('MINUTE', {{ later }}))
        - unix_timestamp(date_trunc('MINUTE', {{ earlier }}))
    ) div 60
{%- endmacro %}


{% macro seconds_between(earlier, later) -%}
    {#- Whole seconds from `earlier` to `later` (second boundaries crossed, as on DuckDB). -#}
    {{ return(adapter.dispatch('seconds_between', 'customer_journeys')(earlier, later)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(earlier, later) -%}
    date_diff('second', {{ earlier }}, {{ later }})
{%- endmacro %}

{% macro spark__seconds_between(earlier, later) -%}
    (unix_timestamp({{ later }}) - unix_timestamp({{ earlier }}))
{%- endmacro %}


{% macro median_of(value) -%}
    {#- Exact median (the mean of the two middle values for an even count), an aggregate. -#}
    {{ return(adapter.dispatch('median_of', 'customer_journeys')(value)) }}
{%- endmacro %}

{% macro duckdb__median_of(value) -%}
    median({{ value }})
{%- endmacro %}

{% macro spark__median_of(value) -%}
    percentile({{ value }}, 0.5)
{%- endmacro %}
