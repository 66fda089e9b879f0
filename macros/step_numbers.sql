{#- Rows step = 1..n as a union of literals (portable: no generate_series on Spark), for path marts
    that report per step of a session. -#}
{% macro step_numbers(n) %}
    {%- for step in range(1, n + 1) %}
    select {{ step }} as step
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
