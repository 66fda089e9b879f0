{#- Stops the build at the rules seed, before any model reads it, with one line per problem of
    a rule (macro url_rule_problems): the engine's own error, so that every broken rule is named
    in the terminal, not only counted. -#}
{% test url_rules_are_usable(model, category_codes) %}

with

rule_problems as (
    {{ customer_journeys.url_rule_problems(model, category_codes) }}
),

report as (
    select
        count(*) as problems,
        {{ dbt.listagg(
            'problem_line', 'chr(10)', 'order by priority, rule_id, check_order'
        ) }} as problem_lines
    from rule_problems
)

{#- the error is raised in the filter: a test wrapper that only counts rows would drop an
    unused column, and with it the error -#}
select problems
from report
where problems > 0
    and {{ customer_journeys.raise_error(
        "'seeds/url_categories.csv has ' || cast(problems as " ~ dbt.type_string()
        ~ ") || ' problem(s):' || chr(10) || problem_lines"
    ) }} is null

{% endtest %}
