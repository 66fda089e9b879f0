{#- Fails with one row per text column of `model` holding an address-like value (macro
    email_regex), with the count. Put on the staging models, it runs right after them in
    `dbt build`, so a leak stops the build before any intermediate model reads the text. -#}
{% test no_email_addresses(model) %}

{%- set text_columns = [] %}
{%- if execute %}
    {#- Spark's columns say `string`, which Column.is_string() does not know -#}
    {%- for column in adapter.get_columns_in_relation(model)
        if column.is_string() or column.dtype | lower == 'string' %}
        {%- do text_columns.append(column.name) %}
    {%- endfor %}
{%- endif %}

select
    cast(null as {{ dbt.type_string() }}) as column_name,
    cast(null as {{ dbt.type_bigint() }}) as offending_values
where false
{%- for column in text_columns %}

union all

select '{{ column }}', count(*)
from {{ model }}
where {{ customer_journeys.regexp_matches(adapter.quote(column), customer_journeys.regex_literal(customer_journeys.email_regex())) }}
having count(*) > 0
{%- endfor %}

{% endtest %}
