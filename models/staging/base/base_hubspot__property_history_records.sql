-- depends_on: {{ ref('base_hubspot__contact_records') }}
{#- One row per row of an ELT tool's contact property history whose property is
    hs_analytics_last_url ("Last Page Seen"; macro elt_history_records), with the reason it is
    quarantined or left out (a deleted contact, no value, a repeated row). Empty when the source
    is the export (files or tables), whose history is base_hubspot__page_history_records. -#}

{%- if raw_source_is_elt() %}
{{ elt_history_records() }}
{%- else %}
{{ empty_records(['contact_id', 'url', 'changed_at']) }}
{%- endif %}
