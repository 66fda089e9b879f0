{#- The optional third source, page_events (one row per page view or event): whether it is there,
    which of its columns the file or table has, and the rules that keep a parsed event out of
    staging. Absent, every page_events model is empty and the build is what it was without it. -#}

{% macro page_event_required_columns() -%}
    {#- (header, snake_case name): the user key and the time of every event. -#}
    {{ return([('contact_id', 'contact_id'), ('occurred_at', 'occurred_at')]) }}
{%- endmacro %}


{% macro page_event_optional_columns() -%}
    {#- Read when the header has them: a page's URL, an event's name (at least one of the two
        columns), the source's own session id. -#}
    {{ return([('url', 'url'), ('event', 'event'), ('session_id', 'session_id')]) }}
{%- endmacro %}


{% macro raw_source_present(table_name) -%}
    {#- True when the raw file (files) or the table under var journeys_raw_schema (tables and the ELT
        tools) exists; always false at parse time, when nothing is read. -#}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if raw_source_mode() != 'files' -%}
        {{ return(load_relation(source('hubspot', table_name)) is not none) }}
    {%- endif -%}
    {{ return(adapter.dispatch('raw_file_present', 'customer_journeys')(table_name)) }}
{%- endmacro %}

{% macro duckdb__raw_file_present(table_name) -%}
    {%- set found = run_query(
        "select count(*) from glob('" ~ raw_file_path(table_name) | replace("'", "''") ~ "')"
    ).columns[0].values()[0] -%}
    {{ return(found > 0) }}
{%- endmacro %}

{% macro spark__raw_file_present(table_name) -%}
    {#- Spark has no glob(): the raw folder listed by the binaryFile source, filtered to the file's
        name (only the path column is read, never the content). -#}
    {%- set folder = env_var('JOURNEYS_RAW_DIR', 'data/raw') -%}
    {%- do run_query(
        "create or replace temporary view " ~ table_name ~ "__presence using binaryFile options (path '"
        ~ folder | replace("\\", "\\\\") | replace("'", "\\'") ~ "', pathGlobFilter '" ~ table_name ~ ".csv')"
    ) -%}
    {%- set found = run_query(
        "select count(*) from (select path from " ~ table_name ~ "__presence)"
    ).columns[0].values()[0] -%}
    {{ return(found > 0) }}
{%- endmacro %}


{% macro page_event_columns() -%}
    {#- The (header, name) pairs read from page_events: the required ones and the optional ones
        its header has. A source with neither `url` nor `event` stops the build in one line. -#}
    {%- set required = page_event_required_columns() -%}
    {%- set optional = page_event_optional_columns() -%}
    {%- if not raw_source_present('page_events') -%}
        {{ return(required + optional) }}
    {%- endif -%}
    {%- set names = adapter.dispatch('raw_source_columns', 'customer_journeys')('page_events') -%}
    {%- set present = [] -%}
    {%- for column in optional if column[0] in names -%}
        {%- do present.append(column) -%}
    {%- endfor -%}
    {%- if 'url' not in names and 'event' not in names -%}
        {{ exceptions.raise_compiler_error(
            raw_source_label('page_events') ~ " has neither a url nor an event column: every row needs"
            ~ " the page's URL or the event's name (columns contact_id, occurred_at, url and/or event,"
            ~ " optional session_id)"
        ) }}
    {%- endif -%}
    {{ return(required + present) }}
{%- endmacro %}

{% macro duckdb__raw_source_columns(table_name) -%}
    {%- if raw_source_mode() == 'files' -%}
        {{ return(raw_file_header(table_name)) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(source('hubspot', table_name)) | map(attribute='name') | list) }}
{%- endmacro %}

{% macro spark__raw_source_columns(table_name) -%}
    {{ return(spark_raw_columns(table_name)) }}
{%- endmacro %}


{% macro page_event_quarantine_reason(records) -%}
    {#- Why a parsed page_events record (relation alias `records`, base model columns) cannot be
        staged; NULL when it can: the user key is an e-mail address (personal data never leaves
        the base layer), the time is missing or unusable, or it names neither a page nor an
        event. -#}
    {%- set checked = checked_timestamp(records ~ '.occurred_at') -%}
    {%- set key = records ~ '.contact_id' -%}
    case
        {#- an address needs an `@` or a `%`-encoded one: the regex runs on the few keys with either #}
        when ({{ dbt.position("'@'", key) }} > 0 or {{ dbt.position("'%'", key) }} > 0)
            and {{ regexp_matches(key, regex_literal(email_regex())) }}
            then 'email_as_user_key'
        when {{ records }}.occurred_at is null then 'missing_occurred_at'
        when ({{ checked.reason }}) is not null then 'occurred_at_' || {{ checked.reason }}
        when {{ records }}.url is null and {{ records }}.event is null then 'missing_url_and_event'
    end
{%- endmacro %}


{% macro is_on_site_category(category) -%}
    {#- Whether an event of this category happened on the site: its category is not one of var
        `journeys_off_site_categories` (e.g. the contact's e-mail opens and clicks). A bare string is read
        as a one-item list. -#}
    {%- set listed = var('journeys_off_site_categories', []) or [] -%}
    {%- set listed = [listed] if listed is string else listed -%}
    {%- if not listed -%}
        true
    {%- else -%}
        {{ category }} not in (
            {%- for name in listed -%}
            '{{ name | string | lower | trim | replace("'", "''") }}'{{ ', ' if not loop.last }}
            {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}


{% macro first_conversions(page_events) -%}
    {#- SQL: each contact's first conversion (var journeys_propensity_target_event) among `page_events`
        (a relation of int_page_events_categorized's columns): contact_id, converted_at. -#}
select
    contact_id,
    min(occurred_at) as converted_at
from {{ page_events }}
where is_target_event
group by contact_id
{%- endmacro %}


{% macro journey_pages(history_page_views, on_site_events, event_source) -%}
    {#- SQL: every contact's journey from one source, the rule of the models' sequences and
        contact_journeys (int_contact_sequences_collated): the page_events source when it holds events
        (`event_source`, one row: has_events), its on-site events (`on_site_events`, with contact_id,
        occurred_at and record_number; var journeys_off_site_categories) in time order, then record, else
        the staged Last Page Seen history. Columns: contact_id, page_order (the order key), category,
        category_code, changed_at, sequence_source. -#}
select
    {{ history_page_views }}.contact_id,
    {{ history_page_views }}.position as page_order,
    {{ history_page_views }}.category,
    {{ history_page_views }}.category_code,
    {{ history_page_views }}.changed_at,
    'page_history' as sequence_source
from {{ history_page_views }}
cross join {{ event_source }}
where not {{ event_source }}.has_events

union all

select
    {{ on_site_events }}.contact_id,
    row_number() over (
        partition by {{ on_site_events }}.contact_id
        order by {{ on_site_events }}.occurred_at, {{ on_site_events }}.record_number
    ) as page_order,
    {{ on_site_events }}.category,
    {{ on_site_events }}.category_code,
    {{ on_site_events }}.occurred_at as changed_at,
    'page_events' as sequence_source
from {{ on_site_events }}
cross join {{ event_source }}
where {{ event_source }}.has_events
{%- endmacro %}
