{#- Run as its own project, a model's custom schema (dbt_project.yml: staging, intermediate, marts) is used as
    it is, not prefixed with the target schema: BI tools and the service read `marts.<table>` whatever the
    target; without a custom schema the target's schema is used. Installed as a package in another project,
    dbt's own rule applies (`<target schema>_<custom schema>`, so a developer's target keeps its builds apart),
    unless that project has a generate_schema_name of its own, which then wins. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if project_name != 'customer_journeys' -%}
        {{ dbt.default__generate_schema_name(custom_schema_name, node) }}
    {%- elif custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
