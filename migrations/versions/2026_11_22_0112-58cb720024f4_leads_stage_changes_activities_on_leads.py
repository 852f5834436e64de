"""Investor leads with their contacts, team and stage history; activities on leads.

Revision ID: 58cb720024f4
Revises: aedef66272bb
Create Date: 2026-11-22 01:12:31.679029

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '58cb720024f4'
down_revision = 'aedef66272bb'
branch_labels = None
depends_on = None

HAS_SUBJECT = "organisation_id IS NOT NULL OR contact_id IS NOT NULL OR event_id IS NOT NULL"


def upgrade():
    op.create_table('leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('sector', sa.String(length=40), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('investment_type', sa.String(length=30), nullable=True),
    sa.Column('business_activity', sa.String(length=30), nullable=True),
    sa.Column('is_new_investor', sa.Boolean(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('capex_eur', sa.BigInteger(), nullable=True),
    sa.Column('capex_is_estimate', sa.Boolean(), nullable=False),
    sa.Column('capex_unknown', sa.Boolean(), nullable=False),
    sa.Column('new_jobs', sa.Integer(), nullable=True),
    sa.Column('new_jobs_is_estimate', sa.Boolean(), nullable=False),
    sa.Column('new_jobs_unknown', sa.Boolean(), nullable=False),
    sa.Column('safeguarded_jobs', sa.Integer(), nullable=True),
    sa.Column('safeguarded_jobs_is_estimate', sa.Boolean(), nullable=False),
    sa.Column('safeguarded_jobs_unknown', sa.Boolean(), nullable=False),
    sa.Column('realised_capex_eur', sa.BigInteger(), nullable=True),
    sa.Column('realised_new_jobs', sa.Integer(), nullable=True),
    sa.Column('realised_safeguarded_jobs', sa.Integer(), nullable=True),
    sa.Column('likelihood', sa.String(length=10), nullable=True),
    sa.Column('expected_decision_on', sa.Date(), nullable=True),
    sa.Column('candidate_sites', sa.Text(), nullable=True),
    sa.Column('competing_locations', sa.Text(), nullable=True),
    sa.Column('chosen_site', sa.String(length=300), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=30), nullable=True),
    sa.Column('source_event_id', sa.Integer(), nullable=True),
    sa.Column('referral_partner_id', sa.Integer(), nullable=True),
    sa.Column('is_confidential', sa.Boolean(), nullable=False),
    sa.Column('lost_reason', sa.Text(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('lost_to', sa.String(length=200), nullable=True),
    sa.Column('won_confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('won_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('title_sort', sa.String(length=300), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('capex_eur IS NULL OR capex_eur >= 0', name=op.f('ck_leads_capex_not_negative')),
    sa.CheckConstraint('new_jobs IS NULL OR new_jobs >= 0', name=op.f('ck_leads_new_jobs_not_negative')),
    sa.CheckConstraint('safeguarded_jobs IS NULL OR safeguarded_jobs >= 0', name=op.f('ck_leads_safeguarded_jobs_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_leads_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_leads_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_leads_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referral_partner_id'], ['organisations.id'], name=op.f('fk_leads_referral_partner_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_event_id'], ['events.id'], name=op.f('fk_leads_source_event_id_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['won_confirmed_by_id'], ['users.id'], name=op.f('fk_leads_won_confirmed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads'))
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_board', ['deleted_at', 'stage', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_expected_decision_on'), ['expected_decision_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_referral_partner_id'), ['referral_partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_sector'), ['sector'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_source_event_id'), ['source_event_id'], unique=False)

    op.create_table('lead_contacts',
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_lead_contacts_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_contacts_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lead_id', 'contact_id', name=op.f('pk_lead_contacts'))
    )
    with op.batch_alter_table('lead_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_contacts_contact_id'), ['contact_id'], unique=False)

    op.create_table('lead_team_members',
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_team_members_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lead_team_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lead_id', 'user_id', name=op.f('pk_lead_team_members'))
    )
    with op.batch_alter_table('lead_team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_team_members_user_id'), ['user_id'], unique=False)

    op.create_table('stage_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('from_stage', sa.String(length=20), nullable=True),
    sa.Column('to_stage', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_stage_changes_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_stage_changes_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_changes'))
    )
    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_changes_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stage_changes_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stage_changes_to_stage'), ['to_stage'], unique=False)

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_activities_lead_id'), ['lead_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_activities_lead_id_leads'), 'leads', ['lead_id'], ['id'], ondelete='CASCADE')
        # An activity about a lead alone also has a subject.
        batch_op.drop_constraint(batch_op.f('ck_activities_has_subject'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_activities_has_subject'), HAS_SUBJECT + " OR lead_id IS NOT NULL")



def downgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_activities_has_subject'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_activities_has_subject'), HAS_SUBJECT)
        batch_op.drop_constraint(batch_op.f('fk_activities_lead_id_leads'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_activities_lead_id'))
        batch_op.drop_column('lead_id')

    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_changes_to_stage'))
        batch_op.drop_index(batch_op.f('ix_stage_changes_lead_id'))
        batch_op.drop_index(batch_op.f('ix_stage_changes_changed_at'))

    op.drop_table('stage_changes')
    with op.batch_alter_table('lead_team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_team_members_user_id'))

    op.drop_table('lead_team_members')
    with op.batch_alter_table('lead_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_contacts_contact_id'))

    op.drop_table('lead_contacts')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leads_source_event_id'))
        batch_op.drop_index(batch_op.f('ix_leads_sector'))
        batch_op.drop_index(batch_op.f('ix_leads_referral_partner_id'))
        batch_op.drop_index(batch_op.f('ix_leads_owner_id'))
        batch_op.drop_index(batch_op.f('ix_leads_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_leads_expected_decision_on'))
        batch_op.drop_index(batch_op.f('ix_leads_country'))
        batch_op.drop_index('ix_leads_board')

    op.drop_table('leads')
