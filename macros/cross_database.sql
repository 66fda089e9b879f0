{#- Engine-specific functions behind adapter.dispatch, so another adapter only adds its own
    implementation here. DuckDB implementations use RE2 regular expressions. -#}

{% macro regexp_matches(value, pattern) -%}
    {{ return(adapter.dispatch('regexp_matches', 'customer_journeys')(value, pattern)) }}
{%- endmacro %}

{% macro default__regexp_matches(value, pattern) -%}
    ({{ value }} ~ {{ pattern }})
{%- endmacro %}

{% macro duckdb__regexp_matches(value, pattern) -%}
    regexp_matches({{ value }}, {{ pattern }})
{%- endmacro %}


{% macro regexp_replace_all(value, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'customer_journeys')(value, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}


{% macro regexp_extract_group(value, pattern, group) -%}
    {{ return(adapter.dispatch('regexp_extract_group', 'customer_journeys')(value, pattern, group)) }}
{%- endmacro %}

{% macro default__regexp_extract_group(value, pattern, group) -%}
    coalesce((regexp_match({{ value }}, {{ pattern }}))[{{ group }}], '')
{%- endmacro %}

{% macro duckdb__regexp_extract_group(value, pattern, group) -%}
    regexp_extract({{ value }}, {{ pattern }}, {{ group }})
{%- endmacro %}


{% macro regexp_extract_all_group(value, pattern, group) -%}
    {#- List of capture group `group` of every non-overlapping match, in order. -#}
    {{ return(adapter.dispatch('regexp_extract_all_group', 'customer_journeys')(value, pattern, group)) }}
{%- endmacro %}

{% macro default__regexp_extract_all_group(value, pattern, group) -%}
    regexp_extract_all({{ value }}, {{ pattern }}, {{ group }})
{%- endmacro %}


{% macro list_agg_ordered(value, order_by) -%}
    {{ return(adapter.dispatch('list_agg_ordered', 'customer_journeys')(value, order_by)) }}
{%- endmacro %}

{% macro default__list_agg_ordered(value, order_by) -%}
    array_agg({{ value }} order by {{ order_by }})
{%- endmacro %}

{% macro duckdb__list_agg_ordered(value, order_by) -%}
    list({{ value }} order by {{ order_by }})
{%- endmacro %}


{% macro list_length(value) -%}
    {{ return(adapter.dispatch('list_length', 'customer_journeys')(value)) }}
{%- endmacro %}

{% macro default__list_length(value) -%}
    coalesce(cardinality({{ value }}), 0)
{%- endmacro %}

{% macro duckdb__list_length(value) -%}
    coalesce(len({{ value }}), 0)
{%- endmacro %}


{% macro empty_integer_list() -%}
    {{ return(adapter.dispatch('empty_integer_list', 'customer_journeys')()) }}
{%- endmacro %}

{% macro default__empty_integer_list() -%}
    cast(array[] as integer[])
{%- endmacro %}

{% macro duckdb__empty_integer_list() -%}
    cast([] as integer[])
{%- endmacro %}


{% macro list_join(value, separator) -%}
    {{ return(adapter.dispatch('list_join', 'customer_journeys')(value, separator)) }}
{%- endmacro %}

{% macro default__list_join(value, separator) -%}
    array_to_string({{ value }}, {{ separator }})
{%- endmacro %}


{% macro percent_decode(value) -%}
    {{ return(adapter.dispatch('percent_decode', 'customer_journeys')(value)) }}
{%- endmacro %}

{% macro duckdb__percent_decode(value) -%}
    {#- url_decode raises on escapes that are not valid UTF-8: such a value is kept encoded. -#}
    coalesce(try(url_decode({{ value }})), {{ value }})
{%- endmacro %}


{% macro try_cast_to(value, type) -%}
    {#- Cast that yields NULL instead of failing on a value that does not convert. -#}
    {{ return(adapter.dispatch('try_cast_to', 'customer_journeys')(value, type)) }}
{%- endmacro %}

{% macro default__try_cast_to(value, type) -%}
    {{ dbt.safe_cast(value, type) }}
{%- endmacro %}

{% macro duckdb__try_cast_to(value, type) -%}
    try_cast({{ value }} as {{ type }})
{%- endmacro %}
