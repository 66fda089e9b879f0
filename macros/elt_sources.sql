{#- HubSpot contacts as an ELT tool lands them in the warehouse (var journeys_raw_source: fivetran,
    airbyte or dlt; shapes in ../shared/spec/hubspot-elt-tables.md): the tool's contacts table and
    its property history, in schema var journeys_raw_schema, table names from the `hubspot`
    source (vars journeys_contact_table, journeys_contact_history_table, journeys_property_table).
    The base models read them into the columns the export's base models have (every value as
    text, the ids checked, the reason a record is not staged), so staging and everything after
    it read one shape whatever the source. Properties are found by HubSpot's internal names
    (the portal's own ones by label in Fivetran's property table, or from var
    journeys_hubspot_property_names); a property that cannot be found stops the build in one line.
    Contacts the tool marks deleted, history rows repeated by an appending loader and history rows
    without a value are left out (left_out_reason) and counted, not quarantined. -#}

{% macro raw_source_is_elt() -%}
    {{ return(raw_source_mode() in ['fivetran', 'airbyte', 'dlt']) }}
{%- endmacro %}


{% macro raw_contacts_table() -%}
    {#- The `hubspot` source table holding the contacts under the current var journeys_raw_source. -#}
    {{ return('contacts' if raw_source_is_elt() else 'hubspot_export') }}
{%- endmacro %}


{% macro raw_source_file(part) -%}
    {#- How quarantined_rows and the reconciliation name a raw input (`contacts`, `history` or
        `page_events`): the export's file names, or the ELT tool's schema.table. -#}
    {%- if raw_source_is_elt() and part in ['contacts', 'history'] -%}
        {%- set table = source('hubspot', 'contacts' if part == 'contacts' else 'contact_property_history') -%}
        {{ return(var('journeys_raw_schema', 'raw_hubspot') ~ '.' ~ table.identifier) }}
    {%- endif -%}
    {{ return({
        'contacts': 'hubspot_export.csv', 'history': 'pageview_hist.csv', 'page_events': 'page_events.csv'
    }[part]) }}
{%- endmacro %}


{% macro hubspot_internal_names() -%}
    {#- Staged column -> HubSpot's internal name of the property, for HubSpot's standard properties
        (spec: display name -> internal name). The other columns staging reads are the portal's own
        properties (macro hubspot_custom_properties). -#}
    {{ return({
        'became_lead_date': 'hs_lifecyclestage_lead_date',
        'became_subscriber_date': 'hs_lifecyclestage_subscriber_date',
        'became_opportunity_date': 'hs_lifecyclestage_opportunity_date',
        'first_conversion_date': 'first_conversion_date',
        'first_email_click_date': 'hs_email_first_click_date',
        'first_email_open_date': 'hs_email_first_open_date',
        'first_email_send_date': 'hs_email_first_send_date',
        'last_activity_date': 'notes_last_updated',
        'last_email_click_date': 'hs_email_last_click_date',
        'last_email_name': 'hs_email_last_email_name',
        'last_email_open_date': 'hs_email_last_open_date',
        'last_email_send_date': 'hs_email_last_send_date',
        'avg_pageviews': 'hs_analytics_average_page_views',
        'first_page_seen': 'hs_analytics_first_url',
        'last_page_seen': 'hs_analytics_last_url',
        'num_pageviews': 'hs_analytics_num_page_views',
        'num_sessions': 'hs_analytics_num_visits',
        'emails_opened': 'hs_email_open',
        'emails_delivered': 'hs_email_delivered',
        'emails_clicked': 'hs_email_click',
        'unsubscribed_all': 'hs_email_optout',
        'event_completions': 'hs_analytics_num_event_completions',
        'ip_country': 'ip_country',
        'ip_country_code': 'ip_country_code',
        'associated_company_id': 'associatedcompanyid',
    }) }}
{%- endmacro %}


{% macro hubspot_timestamp_columns() -%}
    {#- Staged columns holding datetimes: the ELT reader turns epoch milliseconds into timestamps. -#}
    {{ return([
        'became_lead_date', 'became_subscriber_date', 'became_opportunity_date', 'first_conversion_date',
        'first_email_click_date', 'first_email_open_date', 'first_email_send_date', 'last_activity_date',
        'last_email_click_date', 'last_email_open_date', 'last_email_send_date', 'last_event_date',
    ]) }}
{%- endmacro %}


{% macro elt_history_columns() -%}
    {#- The property history table's columns per tool: the contact, the property's internal name,
        the value, when it was set (first found of the list), the row's own deleted flag. -#}
    {{ return({
        'fivetran': {'contact': 'contact_id', 'property': 'name', 'value': 'value',
                     'timestamp': ['timestamp', 'timestamp_instant'], 'deleted': none},
        'airbyte': {'contact': 'vid', 'property': 'property', 'value': 'value',
                    'timestamp': ['timestamp'], 'deleted': 'archived'},
        'dlt': {'contact': 'object_id', 'property': 'property_name', 'value': 'value',
                'timestamp': ['timestamp'], 'deleted': none},
    }[raw_source_mode()]) }}
{%- endmacro %}


{% macro elt_deleted_column() -%}
    {#- The contacts table's deleted flag per tool (optional: absent, no contact is deleted). -#}
    {{ return({'fivetran': '_fivetran_deleted', 'airbyte': 'archived', 'dlt': 'is_deleted'}[raw_source_mode()]) }}
{%- endmacro %}


{% macro elt_find_column(names, wanted) -%}
    {#- The column of `names` that is `wanted`: the same name, else the same ignoring case, else the
        same once every run of characters other than letters and digits is one `_` (dlt's naming,
        e.g. `last-event-date` -> `last_event_date`). none when no column matches. -#}
    {%- if wanted in names -%}
        {{ return(wanted) }}
    {%- endif -%}
    {%- for name in names if name | lower == wanted | lower -%}
        {{ return(name) }}
    {%- endfor -%}
    {%- set folded = modules.re.sub('[^a-z0-9]+', '_', wanted | lower) -%}
    {%- for name in names if modules.re.sub('[^a-z0-9]+', '_', name | lower) == folded -%}
        {{ return(name) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}


{% macro elt_relation_columns(part) -%}
    {#- The column names of an ELT source table (`contacts`, `contact_property_history`,
        `property`); stops the build in one line when the table is absent (`property`: returns
        none). Execution time only. -#}
    {%- set relation = source('hubspot', part) -%}
    {%- if load_relation(relation) is none -%}
        {%- if part == 'property' -%}
            {{ return(none) }}
        {%- endif -%}
        {{ exceptions.raise_compiler_error(
            "Raw table " ~ var('journeys_raw_schema', 'raw_hubspot') ~ "." ~ relation.identifier ~ " not found: set dbt"
            ~ " var journeys_raw_schema to the schema where " ~ raw_source_mode() ~ " loads HubSpot (and var "
            ~ ('journeys_contact_table' if part == 'contacts' else 'journeys_contact_history_table')
            ~ " when the table has another name)"
        ) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name') | list) }}
{%- endmacro %}


{% macro hubspot_property_names_var() -%}
    {#- var journeys_hubspot_property_names, checked: a mapping of the export's display names (those
        staging reads) to the portal's internal names (empty or null: the property is read as empty). -#}
    {%- set given = var('journeys_hubspot_property_names', {}) or {} -%}
    {%- if given is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "dbt var journeys_hubspot_property_names must map display names to internal names, e.g."
            ~ " {\"Job Title or Function\": job_function}"
        ) }}
    {%- endif -%}
    {%- set known = hubspot_contacts_columns() | map(attribute=0) | list -%}
    {%- for name in given if name not in known -%}
        {{ exceptions.raise_compiler_error(
            "dbt var journeys_hubspot_property_names names \"" ~ name ~ "\", which is no property staging reads:"
            ~ " use the export's display names (columns of hubspot_export.csv), e.g. \"Job Title or Function\""
        ) }}
    {%- endfor -%}
    {{ return(given) }}
{%- endmacro %}


{% macro elt_property_labels() -%}
    {#- Label -> internal name of the contact properties in Fivetran's property table, when there is
        one (an empty mapping otherwise); a label two properties share maps to none. -#}
    {%- set labels = {} -%}
    {%- if raw_source_mode() != 'fivetran' -%}
        {{ return(labels) }}
    {%- endif -%}
    {%- set columns = elt_relation_columns('property') -%}
    {%- if columns is none or 'label' not in columns or 'name' not in columns -%}
        {{ return(labels) }}
    {%- endif -%}
    {%- set rows = run_query(
        "select label, name from " ~ source('hubspot', 'property')
        ~ (" where lower(hubspot_object) = 'contact'" if 'hubspot_object' in columns else '')
    ).rows -%}
    {%- for row in rows if row[0] is not none -%}
        {%- set label = row[0] | trim -%}
        {%- do labels.update({label: none if label in labels else row[1]}) -%}
    {%- endfor -%}
    {{ return(labels) }}
{%- endmacro %}


{% macro elt_contact_fields() -%}
    {#- Execution time: (staged column, SQL text expression) for the contact id and every column
        staging reads, from the contacts table's columns, and the deleted-flag expression. Stops the
        build with one line naming every property it cannot find and how to map it. -#}
    {%- set tool = raw_source_mode() -%}
    {%- set names = elt_relation_columns('contacts') -%}
    {%- set label = var('journeys_raw_schema', 'raw_hubspot') ~ '.' ~ source('hubspot', 'contacts').identifier -%}
    {%- set mapped = hubspot_property_names_var() -%}
    {%- set standard = hubspot_internal_names() -%}
    {%- set labels = elt_property_labels() -%}
    {%- set property_table = var('journeys_raw_schema', 'raw_hubspot') ~ '.' ~ source('hubspot', 'property').identifier -%}
    {%- set json_column = elt_find_column(names, 'properties') if tool == 'airbyte' else none -%}
    {%- set prefix = {'fivetran': 'property_', 'airbyte': 'properties_', 'dlt': ''}[tool] -%}
    {%- set id_column = elt_find_column(names, 'id') or (elt_find_column(names, 'hs_object_id') if tool == 'dlt' else none) -%}
    {%- if id_column is none -%}
        {{ exceptions.raise_compiler_error("Raw table " ~ label ~ " has no id column: it is not a " ~ tool ~ " contacts table") }}
    {%- endif -%}
    {%- set fields = [('contact_id', elt_id_text(adapter.quote(id_column)))] -%}
    {%- set problems = [] -%}
    {%- set json_reads = [] -%}
    {%- for display, column in hubspot_contacts_columns() if column != 'contact_id' -%}
        {%- if display in mapped -%}
            {%- set internal = mapped[display] -%}
            {%- set why = 'internal name ' ~ internal ~ ' from var journeys_hubspot_property_names' -%}
        {%- elif column in standard -%}
            {%- set internal = standard[column] -%}
            {%- set why = 'HubSpot internal name ' ~ internal -%}
        {%- elif labels.get(display) -%}
            {%- set internal = labels[display] -%}
            {%- set why = 'internal name ' ~ internal ~ ' by its label in the property table' -%}
        {%- else -%}
            {%- set internal = none -%}
            {%- do problems.append((display, 'the portal\'s own, '
                ~ ('two contact properties carry the label in ' ~ property_table if display in labels
                   else 'no contact property has the label in ' ~ property_table if labels
                   else 'no property table ' ~ property_table ~ ' to find it by label' if tool == 'fivetran'
                   else tool ~ ' has no property table to find it by label'))) -%}
        {%- endif -%}
        {%- if display in mapped and not internal -%}
            {%- do fields.append((column, 'cast(null as ' ~ api.Column.translate_type('string') ~ ')')) -%}
        {%- elif internal -%}
            {%- set found = elt_find_column(names, prefix ~ internal) -%}
            {%- if found is not none -%}
                {%- set value = adapter.quote(found) -%}
            {%- elif json_column is not none -%}
                {%- set value = json_text_field(adapter.quote(json_column), internal) -%}
                {%- do json_reads.append((display, internal, value)) -%}
            {%- else -%}
                {%- set value = none -%}
                {%- do problems.append((display, why ~ ': no column ' ~ prefix ~ internal)) -%}
            {%- endif -%}
            {%- if value is not none -%}
                {%- set text = 'nullif(trim(cast(' ~ value ~ ' as ' ~ api.Column.translate_type('string') ~ ')), \'\')' -%}
                {%- do fields.append((column, elt_timestamp_text(text) if column in hubspot_timestamp_columns() else text)) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if json_reads and not problems -%}
        {#- a property read from the JSON column must have a value in at least one contact -#}
        {%- set present_sql -%}
            select
            {%- for display, internal, value in json_reads %}
                sum(case when {{ value }} is not null then 1 else 0 end){{ ',' if not loop.last }}
            {%- endfor %}
            from {{ source('hubspot', 'contacts') }}
        {%- endset -%}
        {%- set present = run_query(present_sql).rows[0] -%}
        {%- for display, internal, value in json_reads -%}
            {%- if not present[loop.index0] -%}
                {%- do problems.append((display, 'internal name ' ~ internal ~ ': no column ' ~ prefix
                    ~ internal ~ ', and no contact has a value for it in column ' ~ json_column)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if problems -%}
        {#- one line: the properties grouped by why they were not found, in staging's order -#}
        {%- set reasons = [] -%}
        {%- for display, reason in problems if reason not in reasons -%}
            {%- do reasons.append(reason) -%}
        {%- endfor -%}
        {%- set groups = [] -%}
        {%- for reason in reasons -%}
            {%- set named = [] -%}
            {%- for display, why in problems if why == reason -%}
                {%- do named.append('"' ~ display ~ '"') -%}
            {%- endfor -%}
            {%- do groups.append(named | join(', ') ~ ' (' ~ reason ~ ')') -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "Raw table " ~ label ~ ": HubSpot contact properties not found: " ~ groups | join('; ')
            ~ ". Map each display name to the portal's internal name, e.g. --vars '{journeys_hubspot_property_names: {\""
            ~ problems[0][0] ~ "\": <internal name>}}'"
        ) }}
    {%- endif -%}
    {%- set deleted_column = elt_find_column(names, elt_deleted_column()) -%}
    {{ return({
        'fields': fields,
        'deleted': elt_flag(adapter.quote(deleted_column)) if deleted_column else 'false',
    }) }}
{%- endmacro %}


{% macro elt_id_text(column) -%}
    {#- An id as digits: trimmed text, a float's `.0` dropped (an integer, text or float column). -#}
    {{ customer_journeys.regexp_replace_all(
        'nullif(trim(cast(' ~ column ~ ' as ' ~ api.Column.translate_type('string') ~ ')), \'\')',
        customer_journeys.regex_literal('[.]0+$'), "''"
    ) }}
{%- endmacro %}


{% macro elt_flag(column) -%}
    {#- A deleted / archived flag, boolean or text ("true", "t", "1", "yes"); NULL is false. -#}
    coalesce(lower(trim(cast({{ column }} as {{ api.Column.translate_type('string') }}))) in ('true', 't', '1', 'yes'), false)
{%- endmacro %}


{% macro elt_timestamp_text(text) -%}
    {#- A datetime as the text staging parses: a value of 11 or more digits (a float's `.0` allowed)
        is epoch milliseconds, written back as a UTC timestamp; anything else (a timestamp column's
        text, ISO-8601 with or without a zone) is kept as it is. -#}
    case
        when {{ customer_journeys.regexp_matches(text, customer_journeys.regex_literal('^[0-9]{11,}([.]0+)?$')) }}
            then cast({{ customer_journeys.epoch_ms_to_timestamp(
                'cast(cast(' ~ text ~ ' as ' ~ api.Column.translate_type('double') ~ ') as ' ~ api.Column.translate_type('bigint') ~ ')'
            ) }} as {{ api.Column.translate_type('string') }})
        else {{ text }}
    end
{%- endmacro %}


{% macro epoch_ms_to_timestamp(milliseconds) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'customer_journeys')(milliseconds)) }}
{%- endmacro %}

{% macro duckdb__epoch_ms_to_timestamp(milliseconds) -%}
    epoch_ms({{ milliseconds }})
{%- endmacro %}

{% macro spark__epoch_ms_to_timestamp(milliseconds) -%}
    timestamp_millis({{ milliseconds }})
{%- endmacro %}


{% macro json_text_field(column, key) -%}
    {#- The value of `key` (verbatim, any characters) in a JSON object column, as text; NULL when absent. -#}
    {{ return(adapter.dispatch('json_text_field', 'customer_journeys')(column, key)) }}
{%- endmacro %}

{% macro duckdb__json_text_field(column, key) -%}
    json_extract_string({{ column }}, '$."{{ key | replace('"', '\\"') | replace("'", "''") }}"')
{%- endmacro %}

{% macro spark__json_text_field(column, key) -%}
    get_json_object({{ column }}, '$[\'{{ key | replace("\\", "\\\\") | replace("'", "\\'") }}\']')
{%- endmacro %}


{% macro scan_position() -%}
    {#- A column that orders a table's rows as it is scanned (the reader's order of a table). -#}
    {{ return(adapter.dispatch('scan_position', 'customer_journeys')()) }}
{%- endmacro %}

{% macro duckdb__scan_position() -%}
    row_number() over ()
{%- endmacro %}

{% macro spark__scan_position() -%}
    monotonically_increasing_id()
{%- endmacro %}


{% macro csv_record_text(columns) -%}
    {#- The text columns as one CSV record (RFC 4180 quoting), as raw_text keeps a quarantined record. -#}
    concat(
        {%- for column in columns %}
        case
            when {{ column }} is null then ''
            when {{ customer_journeys.regexp_matches(column, customer_journeys.regex_literal('[,"\\r\\n]')) }}
                then concat('"', replace({{ column }}, '"', '""'), '"')
            else {{ column }}
        end{{ ", ','," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{% macro elt_contact_records() -%}
    {#- The body of base_hubspot__contact_records for an ELT tool's contacts table: one row per
        row of the table in scan order, the columns of hubspot_records (every property as trimmed
        text, NULL when empty), its quarantine reason (missing, invalid or repeated id, the first
        row of an id staged, as for the export) or, for a contact the tool marks deleted,
        left_out_reason `deleted_in_hubspot`. -#}
    {%- do source('hubspot', 'contacts') -%}
    {%- do source('hubspot', 'property') if raw_source_mode() == 'fivetran' -%}
    {%- if not execute -%}
        {{ return(empty_records(hubspot_contacts_columns() | map(attribute=1) | list)) }}
    {%- endif -%}
    {%- set read = elt_contact_fields() -%}
    {%- set columns = read.fields | map(attribute=0) | list -%}
with

source_records as (
    select * from {{ source('hubspot', 'contacts') }}
),

records_in_scan_order as (
    select
        {{ scan_position() }} as reader_position,
        {%- for column, expression in read.fields %}
        {{ expression }} as {{ column }},
        {%- endfor %}
        {{ read.deleted }} as is_deleted
    from source_records
),

records_with_ids as (
    select
        *,
        row_number() over (order by reader_position) as reader_index,
        {{ regexp_matches('contact_id', regex_literal('^[0-9]{1,18}$')) }} as has_valid_id,
        {{ try_cast_to('contact_id', api.Column.translate_type('bigint')) }} as contact_key
    from records_in_scan_order
),

first_records as (
    select
        contact_key,
        min(reader_index) as first_reader_index
    from records_with_ids
    where contact_key is not null and not is_deleted
    group by contact_key
),

records_with_reason as (
    select
        records_with_ids.*,
        case
            when records_with_ids.is_deleted then null
            when records_with_ids.contact_id is null then 'missing_contact_id'
            when not records_with_ids.has_valid_id then 'invalid_contact_id'
            when records_with_ids.reader_index > first_records.first_reader_index then 'duplicate_contact_id'
        end as quarantine_reason,
        case when records_with_ids.is_deleted then 'deleted_in_hubspot' end as left_out_reason
    from records_with_ids
    left join first_records
        on records_with_ids.contact_key = first_records.contact_key
),

final as (
    select
        reader_index,
        cast(reader_index as {{ api.Column.translate_type('bigint') }}) as record_number,
        cast(null as {{ api.Column.translate_type('bigint') }}) as line_number,
        cast(1 as {{ api.Column.translate_type('bigint') }}) as line_span,
        quarantine_reason,
        cast(null as {{ api.Column.translate_type('string') }}) as reader_error,
        case when quarantine_reason is not null then {{ csv_record_text(columns) }} end as raw_text,
        left_out_reason,
        '{{ raw_source_file('contacts') }}' as source_file,
        {%- for column in columns %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from records_with_reason
)

select * from final
{%- endmacro %}


{% macro elt_history_records() -%}
    {#- The body of base_hubspot__property_history_records (whose model file declares its
        dependency on base_hubspot__contact_records): one row per row of the ELT tool's
        property history whose property is hs_analytics_last_url ("Last Page Seen"), numbered in
        scan order: the contact id, the URL and the time as text. Quarantined: a missing or invalid
        contact id. Left out (left_out_reason): rows of a contact the tool marks deleted (its
        contact rows all deleted, or the row's own flag), rows without a value, and a row repeating
        an earlier one's contact, URL and time (an appending loader such as dlt repeats rows on
        every run): each version counts once. -#}
    {%- set columns = ['contact_id', 'url', 'changed_at'] -%}
    {%- do source('hubspot', 'contact_property_history') -%}
    {%- if not execute -%}
        {{ return(empty_records(columns)) }}
    {%- endif -%}
    {%- set names = elt_relation_columns('contact_property_history') -%}
    {%- set spec = elt_history_columns() -%}
    {%- set label = raw_source_file('history') -%}
    {%- set found = {} -%}
    {%- for part in ['contact', 'property', 'value'] -%}
        {%- do found.update({part: elt_find_column(names, spec[part])}) -%}
    {%- endfor -%}
    {%- for candidate in spec.timestamp if 'timestamp' not in found -%}
        {%- if elt_find_column(names, candidate) -%}
            {%- do found.update({'timestamp': elt_find_column(names, candidate)}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set missing = [] -%}
    {%- for part, wanted in [('contact', spec.contact), ('property', spec.property), ('value', spec.value),
                             ('timestamp', spec.timestamp | join(' or '))] if not found.get(part) -%}
        {%- do missing.append(wanted) -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "Raw table " ~ label ~ " lacks column(s) " ~ missing | join(', ') ~ ": it is not a "
            ~ raw_source_mode() ~ " contact property history (set var journeys_contact_history_table to that table)"
        ) }}
    {%- endif -%}
    {%- set deleted_column = elt_find_column(names, spec.deleted) if spec.deleted else none -%}
    {%- set string_type = api.Column.translate_type('string') -%}
with

source_records as (
    select * from {{ source('hubspot', 'contact_property_history') }}
    where {{ adapter.quote(found.property) }} = 'hs_analytics_last_url'
),

records_in_scan_order as (
    select
        {{ scan_position() }} as reader_position,
        {{ elt_id_text(adapter.quote(found.contact)) }} as contact_id,
        nullif(trim(cast({{ adapter.quote(found.value) }} as {{ string_type }})), '') as url,
        {{ elt_timestamp_text(
            "nullif(trim(cast(" ~ adapter.quote(found.timestamp) ~ " as " ~ string_type ~ ")), '')"
        ) }} as changed_at,
        {{ elt_flag(adapter.quote(deleted_column)) if deleted_column else 'false' }} as is_deleted
    from source_records
),

records_with_ids as (
    select
        *,
        row_number() over (order by reader_position) as reader_index,
        {{ regexp_matches('contact_id', regex_literal('^[0-9]{1,18}$')) }} as has_valid_id,
        {{ try_cast_to('contact_id', api.Column.translate_type('bigint')) }} as contact_key
    from records_in_scan_order
),

{#- contacts whose every record in the contacts table is marked deleted -#}
deleted_contacts as (
    select {{ try_cast_to('contact_id', api.Column.translate_type('bigint')) }} as contact_key
    from {{ ref('base_hubspot__contact_records') }}
    where contact_id is not null
    group by {{ try_cast_to('contact_id', api.Column.translate_type('bigint')) }}
    having max(case when left_out_reason is null then 1 else 0 end) = 0
),

records_with_deletions as (
    select
        records_with_ids.*,
        records_with_ids.is_deleted or deleted_contacts.contact_key is not null as of_deleted_contact
    from records_with_ids
    left join deleted_contacts
        on records_with_ids.contact_key = deleted_contacts.contact_key
),

{#- the first row of each version (contact, URL, time) -#}
first_versions as (
    select
        contact_key,
        url,
        changed_at,
        min(reader_index) as first_reader_index
    from records_with_deletions
    where has_valid_id and not of_deleted_contact and url is not null
    group by contact_key, url, changed_at
),

records_with_reason as (
    select
        records_with_deletions.*,
        case
            when records_with_deletions.contact_id is null then 'missing_contact_id'
            when not records_with_deletions.has_valid_id then 'invalid_contact_id'
        end as quarantine_reason,
        case
            when not records_with_deletions.has_valid_id then null
            when records_with_deletions.of_deleted_contact then 'deleted_in_hubspot'
            when records_with_deletions.url is null then 'empty_value'
            when records_with_deletions.reader_index > first_versions.first_reader_index then 'repeated_row'
        end as left_out_reason
    from records_with_deletions
    left join first_versions
        on records_with_deletions.contact_key = first_versions.contact_key
        and records_with_deletions.url = first_versions.url
        and coalesce(records_with_deletions.changed_at, '') = coalesce(first_versions.changed_at, '')
),

final as (
    select
        reader_index,
        cast(reader_index as {{ api.Column.translate_type('bigint') }}) as record_number,
        cast(null as {{ api.Column.translate_type('bigint') }}) as line_number,
        cast(1 as {{ api.Column.translate_type('bigint') }}) as line_span,
        quarantine_reason,
        cast(null as {{ string_type }}) as reader_error,
        case when quarantine_reason is not null then {{ csv_record_text(columns) }} end as raw_text,
        left_out_reason,
        '{{ label }}' as source_file,
        contact_id,
        url,
        changed_at
    from records_with_reason
)

select * from final
{%- endmacro %}


{% macro empty_records(columns) -%}
    {#- A base model with no rows and every column of the readers, files or ELT tables (the source
        is absent or the project is being parsed). -#}
    {%- set text_type = api.Column.translate_type('string') -%}
    {%- set bigint_type = api.Column.translate_type('bigint') -%}
select
    cast(null as {{ bigint_type }}) as reader_index,
    cast(null as {{ bigint_type }}) as record_number,
    cast(null as {{ bigint_type }}) as line_number,
    cast(null as {{ bigint_type }}) as line_span,
    cast(null as {{ text_type }}) as quarantine_reason,
    cast(null as {{ text_type }}) as reader_error,
    cast(null as {{ text_type }}) as raw_text,
    cast(null as {{ text_type }}) as left_out_reason,
    cast(null as {{ text_type }}) as source_file,
    {%- for column in columns %}
    cast(null as {{ text_type }}) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
limit 0
{%- endmacro %}


{% macro page_version_quarantine_reason(records) -%}
    {#- Why a property history row (relation alias `records`, base model columns) that is neither
        quarantined nor left out cannot be staged: its time orders the versions, so it must be
        there and inside the plausible window. NULL when it can. -#}
    {%- set checked = checked_timestamp(records ~ '.changed_at') -%}
    case
        when {{ records }}.changed_at is null then 'missing_timestamp'
        when ({{ checked.reason }}) is not null then 'timestamp_' || {{ checked.reason }}
    end
{%- endmacro %}


{% macro elt_raw_record_count(part) -%}
    {#- SQL giving the records of an ELT source (`contacts`, or `history`: the rows of
        hs_analytics_last_url), counted on the table apart from the staging path. -#}
    {%- if not execute -%}
        select cast(0 as {{ api.Column.translate_type('bigint') }}) as raw_records
    {%- elif part == 'contacts' -%}
        select count(*) as raw_records from {{ source('hubspot', 'contacts') }}
    {%- else -%}
        {%- set names = elt_relation_columns('contact_property_history') -%}
        {%- set property = elt_find_column(names, elt_history_columns().property) -%}
        select count(*) as raw_records from {{ source('hubspot', 'contact_property_history') }}
        where {{ adapter.quote(property) }} = 'hs_analytics_last_url'
    {%- endif -%}
{%- endmacro %}
