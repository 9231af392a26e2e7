"""E-services: the service catalogue, fee schedules, applications, workflow, permits, complaints."""
