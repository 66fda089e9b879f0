{#- A model's custom schema (dbt_project.yml: staging, intermediate, marts) is used as it is, not
    prefixed with the target schema: BI tools and the service read `marts.<table>` whatever the
    target. Without a custom schema the target's schema is used. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
