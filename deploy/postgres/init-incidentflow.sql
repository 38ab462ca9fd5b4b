-- Creates incidentflow's own database beside Temporal's (docker-compose only).
CREATE USER incidentflow WITH PASSWORD 'incidentflow';
CREATE DATABASE incidentflow OWNER incidentflow;
