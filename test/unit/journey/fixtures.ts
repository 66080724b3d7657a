// Journeys shared by the journey-language tests: DESIGN.md §1's examples, made complete.

export const CART_ABANDONMENT = `
id: cart-abandonment
name: Cart abandonment
trigger:
  event: checkout_started
  where:
    properties.currency: { in: [USD, EUR] }
    properties.channel: web
  audience: high-value
entry:
  mode: every_time
  uniqueBy: properties.cart_id
exit:
  - event: account_deleted
  - { event: order_refunded, sameKey: true }
events:
  cart_modified: { carries: [properties.cart_id, properties.total] }
  purchase_completed:
    example:
      type: track
      event: purchase_completed
      userId: u-1
      properties: { cart_id: c-1, total: 42.5 }
  order_refunded: { carries: [properties.cart_id] }
steps:
  - id: wait-for-purchase
    type: hold_until
    lookback: 30s
    branches:
      - { id: cart-updated, event: cart_modified, restart: true }
      - { id: purchased, event: purchase_completed, where: { properties.total: { gte: 1 } }, next: thanks }
    timeout: { after: 1h, next: nudge }
  - id: nudge
    type: send
    to: [crm-webhook]
    event: Cart Abandoned
    payload:
      email: profile.traits.email
      cart_id: entry.properties.cart_id
    next: end
  - { id: thanks, type: send, to: [crm-webhook], event: Thanks, next: end }
  - { id: end, type: exit }
`;

/** The other step types of DESIGN.md §1, in one journey. */
export const OTHER_STEPS = `
id: appointment-reminder
name: Appointment reminder
trigger: { event: appointment_booked }
entry: { mode: once }
steps:
  - { id: wait-a-day, type: delay, after: 1d, next: before-appt }
  - { id: before-appt, type: delay, until: entry.properties.appointment_at, offset: -1h, next: route }
  - id: route
    type: data_split
    branches:
      - { id: vip, where: { profile.traits.plan: pro, profile.audiences: { contains: high-value } }, next: vip-send }
      - { id: big-cart, where: { entry.properties.total: { gte: 100 } }, next: big-send }
    else: ab
  - id: ab
    type: random_split
    sticky: true
    branches:
      - { id: a, weight: 50, next: send-a }
      - { id: b, weight: 50, next: send-b }
  - { id: vip-send, type: send, to: [crm-webhook], next: done }
  - { id: big-send, type: send, name: Big cart, to: [crm-webhook], traits: [email], next: done }
  - { id: send-a, type: send, to: [crm-webhook], next: done }
  - { id: send-b, type: send, to: [crm-webhook, ops-subject] }
  - { id: done, type: exit }
`;
