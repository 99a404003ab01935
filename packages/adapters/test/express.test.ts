import { conformance } from './conformance.js';

conformance('express');
