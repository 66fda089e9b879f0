{#- Values checked at the boundary. Each macro returns {'value': typed SQL, 'reason': SQL giving
    a reason code, NULL when the value is usable or empty}. Staging keeps the value only when the
    reason is NULL and lists `column:reason` in invalid_fields, so nothing downstream can see an
    unparsable, non-finite or out-of-range value. Rules and codes are documented in _macros.yml. -#}

{% macro is_finite(value) -%}
    {#- NaN is ordered above every number by DuckDB (and Postgres, Spark), so one range test
        rejects NaN, +inf and -inf alike. -#}
    ({{ value }} between -1.7976931348623157e308 and 1.7976931348623157e308)
{%- endmacro %}


{% macro checked_number(raw, kind) -%}
    {#- kind: `count` (whole number in [0, 2^31 - 1], INTEGER), `id` (whole number in
        [1, 2^63 - 1), BIGINT; HubSpot writes ids in scientific notation) or `measure`
        (finite, >= 0, DOUBLE). -#}
    {%- set number = customer_journeys.try_cast_to(raw, api.Column.translate_type('double')) -%}
    {%- set bounds = {
        'count': (0, 2147483647, 'integer'),
        'id': (1, 9223372036854774784, 'bigint'),
        'measure': (0, none, 'double'),
    }[kind] -%}
    {%- set reason -%}
        case
            when {{ raw }} is null then null
            when {{ number }} is null then 'not_a_number'
            when not {{ customer_journeys.is_finite(number) }} then 'not_finite'
            {%- if kind != 'measure' %}
            when {{ number }} != floor({{ number }}) then 'not_integer'
            {%- endif %}
            when {{ number }} < {{ bounds[0] }} then 'out_of_range'
            {%- if bounds[1] is not none %}
            when {{ number }} > {{ bounds[1] }} then 'out_of_range'
            {%- endif %}
        end
    {%- endset -%}
    {%- set value -%}
        case
            when {{ raw }} is not null and ({{ reason }}) is null
                then cast({{ number }} as {{ api.Column.translate_type(bounds[2]) }})
        end
    {%- endset -%}
    {{ return({'value': value, 'reason': reason}) }}
{%- endmacro %}


{% macro checked_timestamp(raw) -%}
    {#- A timestamp inside the plausible window [var journeys_earliest_plausible_date, var journeys_reference_date
        + 1 day). A value written with a UTC offset (`+05:30`, `-0800`, `Z`) is converted to UTC;
        a value without one is taken as UTC already (HubSpot exports UTC). -#}
    {%- set timestamp_type = api.Column.translate_type('timestamp') -%}
    {%- set value_utc = customer_journeys.timestamp_as_utc(raw) -%}
    {%- set reason -%}
        case
            when {{ raw }} is null then null
            when {{ value_utc }} is null then 'not_a_timestamp'
            when {{ value_utc }} < cast('{{ var("journeys_earliest_plausible_date") }}' as {{ timestamp_type }})
                then 'out_of_window'
            when {{ value_utc }} >= {{ dbt.dateadd(
                'day', 1, "cast('" ~ var('journeys_reference_date') ~ "' as " ~ timestamp_type ~ ")"
            ) }}
                then 'out_of_window'
        end
    {%- endset -%}
    {%- set value -%}
        case when ({{ reason }}) is null then {{ value_utc }} end
    {%- endset -%}
    {{ return({'value': value, 'reason': reason}) }}
{%- endmacro %}


{% macro timestamp_as_utc(raw) -%}
    {{ return(adapter.dispatch('timestamp_as_utc', 'customer_journeys')(raw)) }}
{%- endmacro %}

{% macro default__timestamp_as_utc(raw) -%}
    {{ customer_journeys.try_cast_to(raw, api.Column.translate_type('timestamp')) }}
{%- endmacro %}

{% macro duckdb__timestamp_as_utc(raw) -%}
    {#- DuckDB's timestamp cast drops an offset; its timestamptz cast applies it, and
        timezone('UTC', ...) reads the instant in UTC whatever the session's time zone. -#}
    case
        when regexp_matches(
            {{ raw }}, ':[0-9]{2}(:[0-9]{2}([.][0-9]*)?)? ?([+-][0-9]{2}(:?[0-9]{2})?|[zZ])$'
        )
            then timezone('UTC', try_cast({{ raw }} as timestamptz))
        else try_cast({{ raw }} as timestamp)
    end
{%- endmacro %}


{% macro invalid_fields_list(columns) -%}
    {#- 'column:reason, ...' from the `<column>_reason` columns of `columns`; NULL when all are
        NULL. -#}
    nullif(concat_ws(', ',
        {%- for column in columns %}
        '{{ column }}:' || {{ column }}_reason{{ ',' if not loop.last }}
        {%- endfor %}
    ), '')
{%- endmacro %}
