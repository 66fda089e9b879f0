{#- Personal data check: no relation outside the base models (`base_*`, which keep raw URLs and
    raw text) may have an e-mail-like column name or hold an address-like value, in any of the
    package's own schemas (those its models and seeds build into: staging, intermediate, marts) and
    in any text or list-of-text column, every row. The user's raw schemas, and a host project's own
    models, are not ours to check: an ELT tool's contacts table holds every address (a relation that
    is one of the project's sources is skipped even where it shares a schema with our models). The
    pattern is macro email_regex: addresses in any script, with `@` or `%40`. Returns one row per
    offending column. The depends_on lines (every output table named in docs/architecture.md, those
    of the parts a project can leave out only when built) make dbt build run it after the whole
    pipeline. -#}
-- depends_on: {{ ref('quarantined_rows') }}
-- depends_on: {{ ref('contact_journeys') }}
-- depends_on: {{ ref('unmapped_urls') }}
-- depends_on: {{ ref('url_category_coverage') }}
-- depends_on: {{ ref('contact_features') }}
{% if var('journeys_enable_event_models') %}
-- depends_on: {{ ref('sessions') }}
-- depends_on: {{ ref('category_transitions') }}
-- depends_on: {{ ref('step_matrix') }}
-- depends_on: {{ ref('path_dropoff') }}
-- depends_on: {{ ref('top_paths') }}
{% endif %}
{% if var('journeys_enable_python_models') %}
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
{% endif %}

{%- set email_name_regex = "^(e_?mail|email_address|.*_e_?mail|.*_email_address)$" %}

{%- set checks = [] %}
{%- if execute %}
    {%- set own_schemas = [] %}
    {%- for node in graph.nodes.values()
        if node.resource_type in ['model', 'seed'] and node.package_name == model.package_name
            and node.schema | lower not in own_schemas %}
        {%- do own_schemas.append(node.schema | lower) %}
    {%- endfor %}
    {%- set source_relations = [] %}
    {%- for node in graph.sources.values() %}
        {%- do source_relations.append(node.schema | lower ~ '.' ~ node.identifier | lower) %}
    {%- endfor %}
    {%- set columns_sql %}
        select table_schema, table_name, column_name, data_type
        from information_schema.columns
        where table_catalog = current_database()
            and lower(table_schema) in ('{{ own_schemas | join("', '") }}')
            and lower(table_schema || '.' || table_name) not in ('{{ source_relations | join("', '") }}')
            and table_name not like 'base\_%' escape '\'
        order by table_schema, table_name, column_name
    {%- endset %}
    {%- for row in run_query(columns_sql).rows %}
        {%- do checks.append({'schema': row[0], 'table': row[1], 'column': row[2], 'type': row[3]}) %}
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
    {%- set relation = check.schema ~ '.' ~ check.table %}
    {%- if modules.re.match(email_name_regex, check.column.lower()) %}

    union all

    select
        '{{ relation }}', '{{ check.column }}', 'e-mail-like column name', cast(null as bigint)
    {%- endif %}
    {%- if check.type.upper() in ['VARCHAR', 'VARCHAR[]'] %}
    {%- set value = '"' ~ check.column ~ '"' if check.type.upper() == 'VARCHAR'
        else "array_to_string(\"" ~ check.column ~ "\", ' ')" %}

    union all

    select
        '{{ relation }}',
        '{{ check.column }}',
        'e-mail-like values',
        count(*),
    from "{{ check.schema }}"."{{ check.table }}"
    {#- an address holds an `@` or a `%`-encoded one: the regex runs on the few values with either #}
    where ({{ dbt.position("'@'", value) }} > 0 or {{ dbt.position("'%'", value) }} > 0)
        and {{ regexp_matches(value, "'" ~ email_regex() ~ "'") }}
    having count(*) > 0
    {%- endif %}
    {%- endfor %}
)

select * from offending_columns
