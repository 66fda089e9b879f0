{% macro hubspot_courses() -%}
    {#- (course name as HubSpot writes it in the courses field, flag column suffix). -#}
    {{ return([
        ('Deep Learning Specialization', 'deep_learning_specialization'),
        ('AI For Everyone', 'ai_for_everyone'),
        ('Natural Language Processing', 'natural_language_processing'),
        ('TensorFlow Developer Certificate', 'tensorflow_developer_certificate'),
        ('AI for Medicine', 'ai_for_medicine'),
        ('TensorFlow Data and Deployment', 'tensorflow_data_and_deployment'),
    ]) }}
{%- endmacro %}


{% macro has_course(courses_field, course_name) -%}
    {#- True when `course_name` is one of the `;`-separated values (case and spaces ignored). -#}
    coalesce(
        {{ dbt.position(
            "';" ~ course_name | lower ~ ";'",
            "';' || " ~ customer_journeys.regexp_replace_all(
                'lower(' ~ courses_field ~ ')', customer_journeys.regex_literal("\\s*;\\s*"), "';'"
            ) ~ " || ';'"
        ) }} > 0,
        false
    )
{%- endmacro %}
