{#- This host's HubSpot portal exports timestamps without an offset in its own time zone, New York: it
    overrides the package's dispatched timestamp_as_utc so the package stages them as UTC instants. A
    timestamp with an offset keeps it. -#}
{% macro duckdb__timestamp_as_utc(raw) -%}
    case
        when regexp_matches(
            {{ raw }}, ':[0-9]{2}(:[0-9]{2}([.][0-9]*)?)? ?([+-][0-9]{2}(:?[0-9]{2})?|[zZ])$'
        )
            then timezone('UTC', try_cast({{ raw }} as timestamptz))
        else timezone('UTC', timezone('America/New_York', try_cast({{ raw }} as timestamp)))
    end
{%- endmacro %}
