{#- The published contact feature contract (docs/architecture.md): what the segment and
    propensity models, the scoring service and the report read. Built from
    int_contact_features_assembled; the contract (column names and types) is enforced. -#}

with

contact_features_assembled as (
    select * from {{ ref('int_contact_features_assembled') }}
),

final as (
    select
        contact_id,
        num_sessions,
        num_pageviews,
        emails_delivered,
        emails_opened,
        emails_clicked,
        avg_pageviews,
        ip_country,
        ip_country_code,
        last_email_name,
        last_event,
        job_title,
        education,
        opted_out_events,
        opted_out_announcements,
        opted_out_batch,
        unsubscribed_all,
        has_company,
        is_bulk_import,
        days_since_lead,
        days_since_subscriber,
        days_since_first_conversion,
        days_since_first_email_send,
        days_since_first_email_open,
        days_since_first_email_click,
        days_since_last_email_send,
        days_since_last_email_open,
        days_since_last_email_click,
        days_since_last_event,
        has_page_history,
        page_count,
        category_codes,
        category_codes_uncut,
        category_codes_before_conversion,
        recorded_category_codes,
        first_page_at,
        last_page_at,
        is_buyer,
        is_converted,
        course_deep_learning_specialization,
        course_ai_for_everyone,
        course_natural_language_processing,
        course_tensorflow_developer_certificate,
        course_ai_for_medicine,
        course_tensorflow_data_and_deployment
    from contact_features_assembled
)

select * from final
