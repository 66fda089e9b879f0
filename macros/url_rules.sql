{#- Checks of the URL category rules (seeds/url_categories.csv), run by the seed's test
    `url_rules_are_usable` before any model reads the rules. journeys/url_rules.py is the twin
    the service runs on the same files: same checks, same lines. -#}

{% macro url_rule_problems(rules, codes) -%}
with

rules as (
    select * from {{ rules }}
),

category_codes as (
    select * from {{ codes }}
),

regex_rules_compiled as (
    select
        rule_id,
        {{ customer_journeys.regex_is_valid('pattern') }} as is_valid_regex
    from rules
    where match_type = 'regex' and pattern is not null
),

shared_priorities as (
    select
        rules.rule_id,
        {{ dbt.listagg('others.rule_id', "', '", 'order by others.rule_id') }} as other_rule_ids
    from rules
    inner join rules as others
        on rules.priority = others.priority and rules.rule_id != others.rule_id
    group by rules.rule_id
),

checked_rules as (
    select
        rules.*,
        regex_rules_compiled.is_valid_regex,
        shared_priorities.other_rule_ids,
        category_codes.category is not null as is_known_category,
        {#- a regex without its escapes (\., \S, \pL, \p{Greek}): the upper-case letters left are literal -#}
        {{ customer_journeys.regexp_replace_all(
            'rules.pattern', customer_journeys.regex_literal("\\\\([pP](\\{[^}]*\\}|.)|.)"), "''"
        ) }} as pattern_without_escapes
    from rules
    left join regex_rules_compiled
        on rules.rule_id = regex_rules_compiled.rule_id
    left join shared_priorities
        on rules.rule_id = shared_priorities.rule_id
    left join category_codes
        on rules.category = category_codes.category
),

problems as (
    select rule_id, priority, match_type, pattern, 1 as check_order,
        'match_type ''' || coalesce(match_type, '') || ''' is not one of exact, prefix, contains, regex, event'
            as problem
    from checked_rules
    where coalesce(match_type, '') not in ('exact', 'prefix', 'contains', 'regex', 'event')

    union all
    select rule_id, priority, match_type, pattern, 2, 'the pattern is empty'
    from checked_rules
    where coalesce(pattern, '') = ''

    union all
    select rule_id, priority, match_type, pattern, 3, 'not a valid RE2 regular expression'
    from checked_rules
    where match_type = 'regex' and not is_valid_regex

    union all
    select rule_id, priority, match_type, pattern, 4,
        'has upper-case letters, but normalised URLs are lower-case'
    from checked_rules
    where (
        match_type in ('exact', 'prefix', 'contains', 'event')
        and {{ customer_journeys.regexp_matches('pattern', customer_journeys.regex_literal("[A-Z]")) }}
    ) or (
        match_type = 'regex' and is_valid_regex
        and {{ customer_journeys.regexp_matches('pattern_without_escapes', customer_journeys.regex_literal("[A-Z]")) }}
        and not {{ customer_journeys.regexp_matches('pattern', customer_journeys.regex_literal("\\(\\?[a-z]*i")) }}
    )

    union all
    select rule_id, priority, match_type, pattern, 5,
        'starts with a scheme (http://), but normalised URLs have none'
    from checked_rules
    where (
        match_type in ('exact', 'prefix', 'contains')
        and {{ customer_journeys.regexp_matches('lower(pattern)', customer_journeys.regex_literal("^([a-z][a-z0-9+.-]*:)?//")) }}
    ) or (
        match_type = 'regex' and is_valid_regex
        and {{ customer_journeys.regexp_matches('lower(pattern)', customer_journeys.regex_literal("^\\^?https?\\??:")) }}
    )

    union all
    select rule_id, priority, match_type, pattern, 6,
        'has a www. host, but normalised URLs drop www.'
    from checked_rules
    where (
        match_type in ('exact', 'prefix')
        and {{ customer_journeys.regexp_matches(
            'lower(pattern)', customer_journeys.regex_literal("^([a-z][a-z0-9+.-]*:)?(//)?www\\.")
        ) }}
    ) or (
        match_type = 'regex' and is_valid_regex
        and {{ customer_journeys.regexp_matches('lower(pattern)', customer_journeys.regex_literal("^\\^www\\\\?\\.")) }}
    )

    union all
    select rule_id, priority, match_type, pattern, 7,
        'ends its path with /, but normalised URLs have no trailing slash (only the home page is host/)'
    from checked_rules
    where (
        match_type = 'exact'
        and {{ customer_journeys.regexp_matches('pattern', customer_journeys.regex_literal("^[^/?]*/[^?]*/(\\?.*)?$")) }}
    ) or (
        match_type = 'regex' and is_valid_regex
        and {{ customer_journeys.regexp_matches('pattern', customer_journeys.regex_literal("/.*/\\$$")) }}
    )

    union all
    select rule_id, priority, match_type, pattern, 8,
        'has no /, but a normalised URL always has a path (host/ at least)'
    from checked_rules
    where match_type = 'exact' and coalesce(pattern, '') != ''
        and not {{ customer_journeys.regexp_matches('pattern', customer_journeys.regex_literal("/")) }}

    union all
    select rule_id, priority, match_type, pattern, 9,
        'has a #fragment, but normalised URLs have none'
    from checked_rules
    where match_type in ('exact', 'prefix', 'contains')
        and {{ customer_journeys.regexp_matches('pattern', customer_journeys.regex_literal("#")) }}

    union all
    select rule_id, priority, match_type, pattern, 10,
        'category ''' || coalesce(category, '') || ''' has no code in url_category_codes'
    from checked_rules
    where not is_known_category

    union all
    select rule_id, priority, match_type, pattern, 11, 'the priority is empty'
    from checked_rules
    where priority is null

    union all
    select rule_id, priority, match_type, pattern, 12,
        'priority ' || cast(priority as {{ dbt.type_string() }})
            || ' is also the priority of ' || other_rule_ids || ' (the winner would be arbitrary)'
    from checked_rules
    where other_rule_ids is not null
)

select
    rule_id,
    priority,
    match_type,
    pattern,
    check_order,
    problem,
    'rule ' || coalesce(rule_id, '') || ' (' || coalesce(match_type, '') || ' '''
        || coalesce(pattern, '') || '''): ' || problem as problem_line
from problems
{%- endmacro %}


{% macro url_rule_matches(url, rules) -%}
    {#- Join condition: the rule (a relation with the seed's columns) matches the normalised URL.
        `event` rules match event names (int_event_names_categorized), never a URL. -#}
    case {{ rules }}.match_type
        when 'exact' then {{ url }} = {{ rules }}.pattern
        when 'prefix' then left({{ url }}, length({{ rules }}.pattern)) = {{ rules }}.pattern
        when 'contains' then {{ dbt.position(rules ~ '.pattern', url) }} > 0
        when 'regex' then {{ customer_journeys.regexp_matches(url, rules ~ '.pattern') }}
        else false
    end
{%- endmacro %}


{% macro regex_is_valid(pattern) -%}
    {{ return(adapter.dispatch('regex_is_valid', 'customer_journeys')(pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_is_valid(pattern) -%}
    {#- RE2 compiles the pattern when it is applied: `try` turns a compile error into NULL. -#}
    (try(regexp_matches('', {{ pattern }})) is not null)
{%- endmacro %}

{% macro spark__regex_is_valid(pattern) -%}
    {#- java.util.regex compiles it: try_reflect turns the compile error into NULL. -#}
    (try_reflect('java.util.regex.Pattern', 'compile', {{ pattern }}) is not null)
{%- endmacro %}


{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'customer_journeys')(message)) }}
{%- endmacro %}

{% macro spark__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}

{% macro duckdb__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}
