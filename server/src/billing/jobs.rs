//! Payments' jobs: event deliveries and renewals of the built-in processor, retries of failed
//! payments, visit charges sent to the processor.

use super::local::{self, LocalProcessor};
use crate::jobs::{JobError, JobHandler, JobServices, Scheduler};
use app::billing::processor::PaymentProcessor;
use app::billing::service::RetryPayment;
use app::billing::webhook::{self, WebhookError};
use app::jobs::entity::job;
use async_trait::async_trait;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::sync::Arc;

/// Registers payments' jobs with `scheduler`.
pub fn register(services: &JobServices, scheduler: &mut Scheduler) {
    scheduler.register(
        app::billing::service::RETRY_JOB_KIND,
        Arc::new(RetryFailedPayment {
            db: services.db.clone(),
            processor: services.payments.clone(),
        }),
    );
    scheduler.register(
        app::appointments::allowance::CHARGE_JOB_KIND,
        Arc::new(SendVisitCharge {
            db: services.db.clone(),
            processor: services.payments.clone(),
            clock: services.clock.clone(),
        }),
    );
    if let Some(local_processor) = &services.local_payments {
        scheduler.register(
            local::DELIVER_KIND,
            Arc::new(DeliverLocalEvent {
                db: services.db.clone(),
                secret: services.webhook_secret.clone(),
                clock: services.clock.clone(),
            }),
        );
        scheduler.register(
            local::RENEW_KIND,
            Arc::new(RenewLocalSubscription {
                processor: local_processor.clone(),
            }),
        );
    }
}

/// `local_payments.deliver`: signs a built-in processor event and hands it to the webhook
/// handler, as Stripe would post it.
pub struct DeliverLocalEvent {
    pub db: DatabaseConnection,
    pub secret: Arc<Vec<u8>>,
    pub clock: app::clock::SharedClock,
}

#[async_trait]
impl JobHandler for DeliverLocalEvent {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let delivery: local::Delivery = crate::jobs::payload(job)?;
        let now = self.clock.now();
        let body = delivery.event.as_bytes();
        let header = app::billing::signature::sign(&self.secret, now.timestamp(), body);
        match webhook::receive(&self.db, &self.secret, Some(&header), body, now).await {
            Ok(_) => Ok(()),
            Err(WebhookError::Failed(e)) => Err(JobError::Retry(e.to_string())),
            Err(other) => Err(JobError::Permanent(other.to_string())),
        }
    }
}

/// `local_payments.renew`: the built-in processor bills a subscription's next period.
pub struct RenewLocalSubscription {
    pub processor: LocalProcessor,
}

#[async_trait]
impl JobHandler for RenewLocalSubscription {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let renewal: local::Renewal = crate::jobs::payload(job)?;
        self.processor
            .renew(&renewal)
            .await
            .map(|_| ())
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}

/// `billing.retry`: charges a failed invoice again (one of the three retries).
pub struct RetryFailedPayment {
    pub db: DatabaseConnection,
    pub processor: Arc<dyn PaymentProcessor>,
}

#[async_trait]
impl JobHandler for RetryFailedPayment {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        use app::billing::entity::invoice;
        use app::billing::model::invoice_status;
        let retry: RetryPayment = crate::jobs::payload(job)?;
        let found = invoice::Entity::find()
            .filter(invoice::Column::PublicId.eq(retry.invoice.as_str()))
            .one(&self.db)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
            .ok_or_else(|| JobError::Permanent(format!("invoice {} is gone", retry.invoice)))?;
        if found.status != invoice_status::OPEN {
            return Ok(());
        }
        let Some(processor_id) = found.processor_invoice_id else {
            return Err(JobError::Permanent(
                "the invoice has no processor id".into(),
            ));
        };
        self.processor
            .retry_invoice(&processor_id, &retry.idempotency_key())
            .await
            .map_err(|e| match e {
                app::billing::processor::ProcessorError::Unavailable(why) => JobError::Retry(why),
                other => JobError::Permanent(other.to_string()),
            })
    }
}

/// `billing.visit_charge`: sends a visit fee or late fee to the processor, to be billed with the
/// membership's next invoice. A membership without a processor subscription (paid at the
/// practice) leaves the charge for the practice to collect.
pub struct SendVisitCharge {
    pub db: DatabaseConnection,
    pub processor: Arc<dyn PaymentProcessor>,
    pub clock: app::clock::SharedClock,
}

#[async_trait]
impl JobHandler for SendVisitCharge {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        use app::appointments::allowance::SendCharge;
        use app::billing::entity::visit_charge;
        use app::billing::model::ChargeStatus;
        use app::billing::processor::{InvoiceItem, ProcessorError};
        use app::memberships::entity::membership;
        use sea_orm::{ActiveModelTrait, Set};
        let send: SendCharge = crate::jobs::payload(job)?;
        let retry = |e: sea_orm::DbErr| JobError::Retry(e.to_string());
        let charge = visit_charge::Entity::find()
            .filter(visit_charge::Column::PublicId.eq(send.charge.as_str()))
            .one(&self.db)
            .await
            .map_err(retry)?
            .ok_or_else(|| JobError::Permanent(format!("visit charge {} is gone", send.charge)))?;
        if charge.status != ChargeStatus::Pending {
            return Ok(());
        }
        let member = membership::Entity::find_by_id(charge.membership_id)
            .one(&self.db)
            .await
            .map_err(retry)?
            .ok_or_else(|| JobError::Permanent("the charge's membership is gone".into()))?;
        let status = match (
            member.processor_customer_id,
            member.processor_subscription_id,
        ) {
            (Some(customer_id), Some(subscription_id)) => {
                let item = InvoiceItem {
                    customer_id,
                    subscription_id,
                    amount_cents: charge.amount_cents,
                    description: charge.description.clone(),
                    kind: charge.kind,
                    idempotency_key: format!("visit-charge:{}", charge.public_id),
                };
                match self.processor.add_invoice_item(&item).await {
                    Ok(()) => ChargeStatus::Billed,
                    Err(ProcessorError::Unavailable(why)) => return Err(JobError::Retry(why)),
                    Err(other) => {
                        tracing::warn!(charge = %charge.public_id, error = %other, "the processor refused a visit charge; the practice collects it");
                        ChargeStatus::Collect
                    }
                }
            }
            _ => ChargeStatus::Collect,
        };
        let mut row: visit_charge::ActiveModel = charge.into();
        row.status = Set(status);
        if status == ChargeStatus::Billed {
            row.billed_at = Set(Some(self.clock.now()));
        }
        row.update(&self.db).await.map_err(retry)?;
        Ok(())
    }
}
