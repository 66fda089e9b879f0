{#- Fails with one row per text column of `model` holding an address-like value (macro
    email_regex), with the count. Put on the staging models, it runs right after them in
    `dbt build`, so a leak stops the build before any intermediate model reads the text.
    One scan counts every column: a staging view is evaluated once, not once per column. -#}
{% test no_email_addresses(model) %}

{%- set text_columns = [] %}
{%- if execute %}
    {#- Spark's columns say `string`, which Column.is_string() does not know -#}
    {%- for column in adapter.get_columns_in_relation(model)
        if column.is_string() or column.dtype | lower == 'string' %}
        {%- do text_columns.append(column.name) %}
    {%- endfor %}
{%- endif %}
{%- set email = customer_journeys.regex_literal(customer_journeys.email_regex()) %}

{%- if text_columns %}
with offending_counts as (
    select
    {%- for column in text_columns %}
        {%- set value = adapter.quote(column) %}
        {#- an address holds an `@` or a `%`-encoded one: the regex runs on the few values with either #}
        sum(case
            when ({{ dbt.position("'@'", value) }} > 0 or {{ dbt.position("'%'", value) }} > 0)
                and {{ customer_journeys.regexp_matches(value, email) }}
                then 1 else 0
        end)
            as offending_{{ loop.index }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
)
{%- for column in text_columns %}
{{ "union all" if not loop.first }}
select '{{ column }}' as column_name, offending_{{ loop.index }} as offending_values
from offending_counts
where offending_{{ loop.index }} > 0
{%- endfor %}
{%- else %}
select
    cast(null as {{ dbt.type_string() }}) as column_name,
    cast(null as {{ dbt.type_bigint() }}) as offending_values
where false
{%- endif %}

{% endtest %}
