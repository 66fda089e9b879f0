{#- Personal data check: no relation outside staging may have an e-mail-like column name or hold
    a value that looks like an e-mail address (text and text-list columns, every row). Returns
    one row per offending column. The depends_on lines (every output table named in
    docs/architecture.md) make dbt build run it after the whole pipeline. -#}
-- depends_on: {{ ref('quarantined_rows') }}
-- depends_on: {{ ref('contact_journeys') }}
-- depends_on: {{ ref('unmapped_urls') }}
-- depends_on: {{ ref('url_category_coverage') }}
-- depends_on: {{ ref('int_contact_features_assembled') }}
-- depends_on: {{ ref('contact_segments') }}
-- depends_on: {{ ref('segment_centroids') }}
-- depends_on: {{ ref('segment_profiles') }}
-- depends_on: {{ ref('segment_comparison') }}
-- depends_on: {{ ref('segment_k_selection') }}
-- depends_on: {{ ref('segment_metrics') }}
-- depends_on: {{ ref('purchase_propensity') }}
-- depends_on: {{ ref('training_history') }}
-- depends_on: {{ ref('propensity_metrics') }}
-- depends_on: {{ ref('model_metrics') }}

{%- set email_value_regex = "[a-z0-9._%+-]+(@|%40)[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,}" %}
{%- set email_name_regex = "^(e_?mail|email_address|.*_e_?mail|.*_email_address)$" %}

{%- set checks = [] %}
{%- if execute %}
    {%- set columns_sql %}
        select table_name, column_name, data_type
        from information_schema.columns
        where table_schema = '{{ target.schema }}'
            and table_catalog = current_database()
            and table_name not like 'stg\_%' escape '\'
        order by table_name, column_name
    {%- endset %}
    {%- for row in run_query(columns_sql).rows %}
        {%- do checks.append({'table': row[0], 'column': row[1], 'type': row[2]}) %}
    {%- endfor %}
{%- endif %}

with

offending_columns as (
    select
        cast(null as varchar) as relation_name,
        cast(null as varchar) as column_name,
        cast(null as varchar) as problem,
        cast(null as bigint) as offending_values,
    where false
    {%- for check in checks %}
    {%- if modules.re.match(email_name_regex, check.column.lower()) %}

    union all

    select
        '{{ check.table }}', '{{ check.column }}', 'e-mail-like column name', cast(null as bigint)
    {%- endif %}
    {%- if check.type.upper().startswith('VARCHAR') %}

    union all

    select
        '{{ check.table }}',
        '{{ check.column }}',
        'e-mail-like values',
        count(*),
    from {{ target.schema }}."{{ check.table }}"
    where {{ regexp_matches(
        'lower(cast("' ~ check.column ~ '" as varchar))', "'" ~ email_value_regex ~ "'"
    ) }}
    having count(*) > 0
    {%- endif %}
    {%- endfor %}
)

select * from offending_columns
