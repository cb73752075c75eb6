"""«Сигнал»: notification rules, templates, the outbox and its dispatcher."""
