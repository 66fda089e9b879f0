{#- Reading the raw HubSpot CSV files. The files are parsed here, line by line, instead of by
    the engine's CSV reader: a broken line then stays one line (it cannot swallow the lines after
    it), every physical line keeps its number, and each one is either parsed or quarantined with
    a reason. -#}

{% macro raw_file_path(file_name) -%}
    {{ return(env_var('JOURNEYS_RAW_DIR', 'data/raw') ~ '/' ~ file_name) }}
{%- endmacro %}


{% macro hubspot_contacts_columns() -%}
    {#- (header as exported, snake_case name) of every column staging reads. -#}
    {{ return([
        ('Contact ID', 'contact_id'),
        ('Became a Lead Date', 'became_lead_date'),
        ('Became a Subscriber Date', 'became_subscriber_date'),
        ('Became an Opportunity Date', 'became_opportunity_date'),
        ('First Conversion Date', 'first_conversion_date'),
        ('First marketing email click date', 'first_email_click_date'),
        ('First marketing email open date', 'first_email_open_date'),
        ('First marketing email send date', 'first_email_send_date'),
        ('Last Activity Date', 'last_activity_date'),
        ('Last marketing email click date', 'last_email_click_date'),
        ('Last marketing email name', 'last_email_name'),
        ('Last marketing email open date', 'last_email_open_date'),
        ('Last marketing email send date', 'last_email_send_date'),
        ('Average Pageviews', 'avg_pageviews'),
        ('First Page Seen', 'first_page_seen'),
        ('Last Page Seen', 'last_page_seen'),
        ('Number of Pageviews', 'num_pageviews'),
        ('Number of Sessions', 'num_sessions'),
        ('Marketing emails opened', 'emails_opened'),
        ('Marketing emails delivered', 'emails_delivered'),
        ('Marketing emails clicked', 'emails_clicked'),
        ('Opted out of email: Events and Community', 'opted_out_events'),
        ('Opted out of email: Program Announcements', 'opted_out_announcements'),
        ('Opted out of email: The Batch', 'opted_out_batch'),
        ('Unsubscribed from all email', 'unsubscribed_all'),
        ('Which of the following online courses have you taken from deeplearning.ai?', 'courses_taken'),
        ('Last Registered Event', 'last_event'),
        ('Last Registered Event Date', 'last_event_date'),
        ('Number of event completions', 'event_completions'),
        ('Highest level of completed education', 'education'),
        ('Job Title or Function', 'job_title'),
        ('IP Country', 'ip_country'),
        ('IP Country Code', 'ip_country_code'),
        ('Associated Company ID', 'associated_company_id'),
    ]) }}
{%- endmacro %}


{% macro hubspot_page_history_columns() -%}
    {#- (header, snake_case name) read from pageview_hist.csv, newest slot first. `Email` is
        deliberately absent: personal data is never selected. -#}
    {{ return([
        ('Contact ID', 'contact_id'),
        ('Last Page Seen Current Value', 'url_current'),
        ('Last Page Seen Change Date', 'changed_at_current'),
        ('Last Page Seen Previous Value (1)', 'url_previous_1'),
        ('Last Page Seen Change Date (1)', 'changed_at_previous_1'),
        ('Last Page Seen Previous Value (2)', 'url_previous_2'),
        ('Last Page Seen Change Date (2)', 'changed_at_previous_2'),
        ('...', 'url_previous_3'),
    ]) }}
{%- endmacro %}


{% macro csv_field_regex() -%}
    {#- One RFC 4180 field: quoted (with "" escapes) or unquoted without quotes or commas. -#}
    {{ return('"(?:[^"]|"")*"|[^,"]*') }}
{%- endmacro %}


{% macro read_raw_lines(file_name) -%}
    {{ return(adapter.dispatch('read_raw_lines', 'customer_journeys')(file_name)) }}
{%- endmacro %}

{% macro duckdb__read_raw_lines(file_name) -%}
    {#- (line_number, line_text) for every physical line; CR of CRLF endings and a UTF-8 BOM removed;
        the empty piece after the file's final newline is not a line. -#}
    select
        line_number,
        line_text,
    from (
        select
            unnest(range(1, len(lines) + 1)) as line_number,
            unnest(lines) as line_text,
            len(lines) as piece_count,
        from (
            select
                string_split(
                    replace(replace(content, chr(13), ''), chr(65279), ''), chr(10)
                ) as lines,
            from read_text('{{ customer_journeys.raw_file_path(file_name) }}')
        )
    )
    where not (line_number = piece_count and line_text = '')
{%- endmacro %}


{% macro read_raw_header_line(file_name) -%}
    {{ return(adapter.dispatch('read_raw_header_line', 'customer_journeys')(file_name)) }}
{%- endmacro %}

{% macro duckdb__read_raw_header_line(file_name) -%}
    {#- (line_text) of the file's first line only, cleaned like read_raw_lines. -#}
    select
        replace(replace(split_part(content, chr(10), 1), chr(13), ''), chr(65279), '') as line_text,
    from read_text('{{ customer_journeys.raw_file_path(file_name) }}')
{%- endmacro %}


{% macro split_csv_fields(line_text) -%}
    {{ return(adapter.dispatch('split_csv_fields', 'customer_journeys')(line_text)) }}
{%- endmacro %}

{% macro duckdb__split_csv_fields(line_text) -%}
    {#- The fields of one CSV line, unquoted. A line without any quote is split on commas (the
        common, fast case); otherwise RE2 tokenises quoted and unquoted fields. -#}
    case
        when {{ dbt.position("'\"'", line_text) }} = 0 then string_split({{ line_text }}, ',')
        else list_transform(
            regexp_extract_all(
                ',' || {{ line_text }}, ',({{ customer_journeys.csv_field_regex() }})', 1
            ),
            lambda f: case when f like '"%' then replace(f[2:-2], '""', '"') else f end
        )
    end
{%- endmacro %}


{% macro assert_raw_file_columns(file_name, columns) -%}
    {#- Fails the build with one line naming the file and the missing column(s). Runs at
        execution time only (dbt parses without a database). -#}
    {%- if execute -%}
        {%- set path = customer_journeys.raw_file_path(file_name) -%}
        {%- set found = run_query("select count(*) from glob('" ~ path ~ "')").columns[0].values()[0] -%}
        {%- if found == 0 -%}
            {{ exceptions.raise_compiler_error(
                "Raw file " ~ file_name ~ " not found: expected it at " ~ path
                ~ " (set JOURNEYS_RAW_DIR to the export folder)"
            ) }}
        {%- endif -%}
        {%- set missing_sql -%}
            with

            header as (
                select list_transform(
                    {{ customer_journeys.split_csv_fields('line_text') }}, lambda name: trim(name)
                ) as fields
                from ({{ customer_journeys.read_raw_header_line(file_name) }})
            ),

            required_columns as (
                {%- for column in columns %}
                select {{ loop.index }} as column_index, '{{ column[0] | replace("'", "''") }}' as column_name
                {{ 'union all' if not loop.last }}
                {%- endfor %}
            )

            select required_columns.column_name
            from required_columns
            cross join header
            where coalesce(list_position(header.fields, required_columns.column_name), 0) = 0
            order by required_columns.column_index
        {%- endset -%}
        {%- set missing = [] -%}
        {%- for name in run_query(missing_sql).columns[0].values() -%}
            {%- do missing.append('"' ~ name ~ '"') -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "Raw file " ~ file_name ~ " (" ~ path ~ ") lacks required column(s): "
                ~ missing | join(', ')
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{% macro parse_raw_csv(file_name, columns) -%}
    {#- One row per physical data line: line_number, line_text (as read: the caller must redact it
        before persisting), parse_error (NULL when the line parsed) and one trimmed VARCHAR column
        per (header, name) pair, NULL when empty. -#}
    {{ customer_journeys.assert_raw_file_columns(file_name, columns) }}
    {%- set field = customer_journeys.csv_field_regex() %}
    with

    raw_lines as (
        {{ customer_journeys.read_raw_lines(file_name) }}
    ),

    split_lines as (
        select
            line_number,
            line_text,
            {{ dbt.position("'\"'", 'line_text') }} = 0
            or {{ customer_journeys.regexp_matches(
                'line_text', "'^(?:" ~ field ~ ")(?:,(?:" ~ field ~ "))*$'"
            ) }} as is_well_formed,
            {{ customer_journeys.split_csv_fields('line_text') }} as fields,
        from raw_lines
    ),

    header_names as (
        select
            list_transform(fields, lambda name: trim(name)) as names,
        from split_lines
        where line_number = 1
    ),

    header as (
        select
            len(names) as field_count,
            {%- for column in columns %}
            list_position(names, '{{ column[0] | replace("'", "''") }}') as position_{{ column[1] }},
            {%- endfor %}
        from header_names
    ),

    final as (
        select
            split_lines.line_number,
            split_lines.line_text,
            case
                when trim(split_lines.line_text) = '' then 'blank_line'
                when not split_lines.is_well_formed then 'malformed_line'
                when len(split_lines.fields) != header.field_count then 'wrong_field_count'
            end as parse_error,
            {%- for column in columns %}
            case
                when split_lines.is_well_formed
                    and len(split_lines.fields) = header.field_count
                    then nullif(trim(split_lines.fields[header.position_{{ column[1] }}]), '')
            end as {{ column[1] }},
            {%- endfor %}
        from split_lines
        cross join header
        where split_lines.line_number > 1
    )

    select * from final
{%- endmacro %}


{% macro raw_lines_with_quarantine_reason(file_name, columns) -%}
    {#- The body of a `stg_hubspot__*_lines` model: every physical data line of `file_name`, parsed
        into `columns`, with the reason it cannot be staged (parse error, missing or invalid id, a
        later duplicate of an id) and, for those lines only, its raw text with e-mails redacted. -#}
with

parsed_lines as (
    {{ parse_raw_csv(file_name, columns) }}
),

lines_with_valid_ids as (
    select
        *,
        parse_error is null
        and {{ regexp_matches('contact_id', "'^[0-9]{1,18}$'") }} as has_valid_id,
        {{ try_cast_to('contact_id', api.Column.translate_type('bigint')) }} as contact_key,
    from parsed_lines
),

first_lines as (
    select
        contact_key,
        min(line_number) as first_line_number,
    from lines_with_valid_ids
    where has_valid_id
    group by contact_key
),

lines_with_reason as (
    select
        lines_with_valid_ids.*,
        case
            when lines_with_valid_ids.parse_error is not null then lines_with_valid_ids.parse_error
            when lines_with_valid_ids.contact_id is null then 'missing_contact_id'
            when not lines_with_valid_ids.has_valid_id then 'invalid_contact_id'
            when lines_with_valid_ids.line_number > first_lines.first_line_number
                then 'duplicate_contact_id'
        end as quarantine_reason,
    from lines_with_valid_ids
    left join first_lines
        on lines_with_valid_ids.contact_key = first_lines.contact_key
),

final as (
    select
        line_number,
        quarantine_reason,
        case
            when quarantine_reason is not null
                then left({{ redact_emails('line_text') }}, {{ var('quarantine_raw_text_chars') }})
        end as raw_text,
        {%- for column in columns %}
        {{ column[1] }},
        {%- endfor %}
    from lines_with_reason
)

select * from final
{%- endmacro %}
