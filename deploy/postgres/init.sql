-- One database per service: services never share tables.
CREATE DATABASE enrollment;
CREATE DATABASE notification;
CREATE DATABASE reporting;
